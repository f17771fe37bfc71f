import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { FAULT_KINDS, processFaultCounts } from '../process-guard.js';

/** One registry per Arena instance (tests run several in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let streamingBattles = () => 0;
  return {
    registry,
    connectedClients: new Gauge({ name: 'arena_connected_clients', help: 'Open Socket.IO connections', registers }),
    activeBattles: new Gauge({
      name: 'arena_active_battles',
      help: 'Battles with a stream in flight',
      registers,
      collect() {
        this.set(streamingBattles());
      },
    }),
    /** Counted at scrape time: recounting on every stream start and end cost the token path. */
    countStreamingBattlesWith(count: () => number) {
      streamingBattles = count;
    },
    activeStreams: new Gauge({ name: 'arena_active_streams', help: 'Model streams in flight', registers }),
    tokensRelayed: new Counter({
      name: 'arena_tokens_relayed_total',
      help: 'Text and reasoning deltas received from backends and relayed to clients',
      registers,
    }),
    framesSent: new Counter({ name: 'arena_frames_sent_total', help: 'Coalesced event frames broadcast', registers }),
    ttft: new Histogram({
      name: 'arena_time_to_first_token_seconds',
      help: 'Request start to first token, per deployment',
      labelNames: ['deployment'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    tokenDelivery: new Histogram({
      name: 'arena_token_delivery_seconds',
      help: 'Backend token arrival to broadcast (coalescing and relay delay), per deployment',
      labelNames: ['deployment'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registers,
    }),
    votes: new Counter({ name: 'arena_votes_total', help: 'Votes stored', labelNames: ['choice', 'excluded'], registers }),
    errors: new Counter({ name: 'arena_errors_total', help: 'Errors by type', labelNames: ['type'], registers }),
    processFaults: new Counter({
      name: 'arena_process_faults_total',
      help: 'Unhandled promise rejections and uncaught exceptions caught by the process guard',
      labelNames: ['kind'],
      registers,
      // The guard counts per process; every kind is reported, zeros included, so a scrape can assert 0.
      collect() {
        this.reset();
        const counts = processFaultCounts();
        for (const kind of FAULT_KINDS) this.inc({ kind }, counts[kind]);
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
