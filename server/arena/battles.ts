import { BattleCommands } from './commands.js';
import type { BattleDeps } from './deps.js';
import { LiveBattles } from './live.js';
import { BattleReads } from './reads.js';
import { TurnRunner } from './turns.js';

export type { ArenaLimits, ArenaModels, BattleDeps, Caller, PairPicker } from './deps.js';
export type { BattlePort } from './port.js';

/**
 * Battles: blind pairs, streaming both sides into the battle's ordered event log, votes,
 * "Next >" cycling, tournaments and spectators. Transport-agnostic: the realtime layer maps
 * sockets to Callers and implements the port battles publish through. With several instances,
 * the one holding a battle's lease runs its streams; the others forward owner actions to it and
 * read its log from the cluster.
 *
 *   commands.ts  what an owner asks (start, next, send, stop, regenerate, vote)
 *   reads.ts     what any instance answers by reading (state, history, resume, watch, crowd vote)
 *   turns.ts     the token path: sides and the tools path streamed into the log, then settled
 *   live.ts      the battles this instance runs: track, publish, hold, rehydrate, adopt, evict
 */
export interface Battles {
  commands: BattleCommands;
  reads: BattleReads;
  live: LiveBattles;
  /** Starts the timers (idle eviction; with several instances the lease heartbeat and orphan scan). */
  start(): void;
  /** Stops the timers, then stops (single instance) or hands off (several) every stream, saved. */
  close(): Promise<void>;
  streamingBattles(): number;
}

export function createBattles(deps: BattleDeps): Battles {
  const live = new LiveBattles(deps);
  const turns = new TurnRunner(deps, live);
  return {
    commands: new BattleCommands(deps, live, turns),
    reads: new BattleReads(deps, live),
    live,
    start: () => live.start(turns.resume),
    close: () => live.close(),
    streamingBattles: () => live.streamingBattles(),
  };
}
