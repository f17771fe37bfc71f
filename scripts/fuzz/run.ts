/** One fuzz run (scripts/fuzz.ts): the main loop, the memory samples, the checks afterwards. */
import { Rng } from '../../server/random.js';
import { wellFormedDuel, sleep, type Finding } from './checks.js';
import { planEvent } from './plan.js';
import { newFuzzState } from './state.js';
import { createTraffic } from './traffic.js';

// ------------------------------------------------------------------ the run

export interface FuzzOptions {
  url: string;
  events: number;
  seed: number;
  /** Concurrent fuzzing connections (each its own session). Default 24. */
  connections?: number;
  /** Server RSS in bytes (e.g. from /proc/<pid>/status); omitted = not measured. */
  rss?: () => number | Promise<number>;
  /** False once the server process has died. */
  alive?: () => boolean;
  /**
   * Full GC in the server, then its memory (see startServerProcess): used for the baseline and
   * final samples when given, so only memory that survives a collection counts.
   */
  collect?: () => Promise<{ rss: number; heapUsed: number }>;
  /** RSS growth allowed between the post-warm-up sample and the final one, in %. Default 20. */
  rssBoundPct?: number;
  /** Events before the baseline RSS sample. Default min(10000, events / 5). */
  warmupEvents?: number;
  /** Pause before the final RSS sample (lets the GC run and sockets close). Default 5000. */
  settleMs?: number;
  /** Wait this long for an ack before calling it unanswered. Default 15000. */
  ackTimeoutMs?: number;
  /** Unresolved acks allowed at once. Default 256. */
  maxInFlight?: number;
  /** Kinds (`raw`) or kind:variant (`handshake:cookie-bad-percent`) never generated. */
  exclude?: string[];
  log?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  eventsPlanned: number;
  eventsSent: number;
  durationMs: number;
  eventsPerSecond: number;
  byKind: Record<string, number>;
  acks: { ok: number; errors: Record<string, number>; unansweredAfterClose: number; silentAsExpected: number; unexpectedReplies: number };
  /** Payloads socket.io-client itself refused to encode (never sent). */
  unencodable: number;
  connections: { opened: number; closedByServer: number; connectErrors: Record<string, number> };
  handshakes: Record<string, { connected: number; refused: number }>;
  rss?: {
    startMb: number;
    warmMb: number;
    peakMb: number;
    endMb: number;
    growthPct: number;
    boundPct: number;
    /** How the baseline and final samples were taken. */
    method: 'after forced GC' | 'after a pause';
    /** V8 heap in use after the forced GCs (when available). */
    heapWarmMb?: number;
    heapEndMb?: number;
  };
  alive: boolean;
  afterCheck: { ok: boolean; ms: number; detail: string };
  findings: Finding[];
  /** Findings grouped by type and detail, with counts. */
  findingSummary: { type: string; detail: string; count: number; example: Finding }[];
  pass: boolean;
}


const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const round = (n: number) => Math.round(n * 10) / 10;

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  // The plan of event #n depends on the seed alone; choices made at send time (learnt ids, flood
  // contents) draw from a second generator, so they never shift the plan.
  const rng = new Rng(opts.seed);
  const exclude = new Set(opts.exclude ?? []);
  const ackTimeoutMs = opts.ackTimeoutMs ?? 15_000;
  const warmupEvents = opts.warmupEvents ?? Math.min(10_000, Math.floor(opts.events / 5));
  const rssBoundPct = opts.rssBoundPct ?? 20;
  const alive = opts.alive ?? (() => true);
  const readRss = async () => {
    try {
      return opts.rss ? Number(await opts.rss()) : NaN;
    } catch {
      return NaN; // the process is gone
    }
  };
  /** A baseline or final sample: after a forced GC when the harness can, else as it is. */
  const settledMemory = async (): Promise<{ rss: number; heapUsed?: number }> => {
    if (opts.collect) {
      try {
        return await opts.collect();
      } catch {
        /* the server died (checked by the caller) or cannot collect: fall back to a plain sample */
      }
    }
    return { rss: await readRss() };
  };

  const s = newFuzzState();
  const { send, waitForRoom, waitForAll, finding, describe, lastEvents, closeAll } = createTraffic(
    { url: opts.url, seed: opts.seed, connections: opts.connections ?? 24, ackTimeoutMs, maxInFlight: opts.maxInFlight ?? 256, alive },
    s,
  );

  // ------------------------------------------------------------------ main loop
  const rssStart = opts.rss ? (await settledMemory()).rss : NaN;
  let rssWarm = rssStart;
  let heapWarm: number | undefined;
  let rssPeak = rssStart;
  const sampler = opts.rss
    ? setInterval(async () => {
        const v = await readRss().catch(() => NaN);
        if (v > rssPeak) rssPeak = v;
      }, 1_000)
    : undefined;

  const handshaking = new Set<Promise<unknown>>();
  let index = 0;
  const progress = setInterval(() => {
    log(`${index}/${opts.events} events, ${s.inFlight} in flight, ${handshaking.size} side connections, ${s.conn.closedByServer} connections closed by the server, ${s.findings.length} s.findings${alive() ? '' : ', SERVER DOWN'}`);
  }, 5_000);
  for (; index < opts.events && !s.crashed; index++) {
    if (index === warmupEvents) {
      await waitForAll(ackTimeoutMs);
      if (!alive()) {
        s.crashed = true;
        break;
      }
      if (opts.rss && alive()) {
        const m = await settledMemory();
        rssWarm = m.rss;
        heapWarm = m.heapUsed;
        log(`warm-up done after ${index} events: RSS ${mb(rssWarm)} MB${heapWarm ? `, heap ${mb(heapWarm)} MB` : ''}`);
      }
    }
    const ev = planEvent(rng, index, exclude);
    await waitForRoom();
    // Handshakes and connection (re)opening are slow: do not let them stall everything else.
    if (ev.kind === 'handshake' || ev.raw) {
      // Each on a connection of its own, a few at a time, beside the main stream.
      const attempt = send(ev).catch((err) => finding({ type: 'handshake', detail: String(err), ...describe(ev) }));
      handshaking.add(attempt);
      void attempt.finally(() => handshaking.delete(attempt));
      if (handshaking.size >= 16) await Promise.race(handshaking);
    } else await send(ev);
    if (ev.kind === 'flood') await waitForAll(ackTimeoutMs);
    if (!alive()) s.crashed = true;
    // Let acks and socket events run now and then.
    if (index % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  await waitForAll(ackTimeoutMs + 1_000);
  await Promise.all(handshaking);
  clearInterval(progress);
  // Silent events wait up to 1.5 s for a reply that must not come.
  await sleep(1_600);
  const durationMs = Date.now() - started;
  closeAll();
  if (!alive()) s.crashed = true;

  if (s.crashed) {
    finding({
      type: 'crash',
      detail: `the server process died around event #${index}; ${lastEvents()}`,
    });
  }

  // ------------------------------------------------------------------ afterwards
  let rss: FuzzReport['rss'];
  if (opts.rss && !s.crashed) await sleep(opts.settleMs ?? 5_000);
  if (!alive() && !s.crashed) {
    s.crashed = true;
    finding({ type: 'crash', detail: `the server process died after the last event; ${lastEvents()}` });
  }
  if (opts.rss && !s.crashed) {
    const final = await settledMemory();
    const end = final.rss;
    clearInterval(sampler);
    const growthPct = ((end - rssWarm) / rssWarm) * 100;
    rss = {
      startMb: mb(rssStart),
      warmMb: mb(rssWarm),
      peakMb: mb(Math.max(rssPeak, end, rssWarm)),
      endMb: mb(end),
      growthPct: round(growthPct),
      boundPct: rssBoundPct,
      method: opts.collect ? 'after forced GC' : 'after a pause',
      ...(heapWarm !== undefined && final.heapUsed !== undefined ? { heapWarmMb: mb(heapWarm), heapEndMb: mb(final.heapUsed) } : {}),
    };
    if (growthPct >= rssBoundPct)
      finding({ type: 'rss_growth', detail: `server RSS grew ${round(growthPct)} % (${mb(rssWarm)} → ${mb(end)} MB) after the warm-up; bound ${rssBoundPct} %` });
  }
  clearInterval(sampler);

  const afterCheck = s.crashed ? { ok: false, ms: 0, detail: 'server is down' } : await wellFormedDuel(opts.url);
  if (!afterCheck.ok) finding({ type: 'after_check', detail: afterCheck.detail });

  const groups = new Map<string, { type: string; detail: string; count: number; example: Finding }>();
  for (const f of s.findings) {
    const key = `${f.type}|${f.detail.replace(/\d+/g, 'N').slice(0, 60)}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { type: f.type, detail: f.detail, count: 1, example: f });
  }
  return {
    seed: opts.seed,
    eventsPlanned: opts.events,
    eventsSent: s.sent,
    durationMs,
    eventsPerSecond: Math.round((s.sent / durationMs) * 1000),
    byKind: s.byKind,
    acks: s.acks,
    unencodable: s.unencodable,
    connections: s.conn,
    handshakes: s.handshakes,
    rss,
    alive: !s.crashed && alive(),
    afterCheck,
    findings: s.findings,
    findingSummary: [...groups.values()].sort((a, b) => b.count - a.count),
    pass: s.findings.length === 0,
  };
}

