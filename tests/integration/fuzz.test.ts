import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, runFuzz, type FuzzReport } from '../../scripts/fuzz.js';
import { startTestArena, type TestArena } from '../helpers/arena.js';

/**
 * The short, in-suite version of `npm run fuzz` (scripts/fuzz.ts): a few thousand seeded hostile
 * events against an in-process arena, with the same checks as the standalone 100,000-event run.
 */

// A full GC on demand, so the memory samples hold only what survives a collection.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
async function collect() {
  gc();
  await new Promise((r) => setTimeout(r, 100));
  gc();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

describe('protocol fuzzing (short run)', () => {
  let t: TestArena;
  let report: FuzzReport;

  beforeAll(async () => {
    // Every connection comes from 127.0.0.1: per-address limits are raised so they do not hide
    // the rest; per-session and per-socket limits keep their defaults.
    t = await startTestArena({ config: { limits: { connectionsPerMinutePerIp: 1_000_000, promptsPerMinutePerIp: 1_000_000 } } });
    report = await runFuzz({
      url: t.url,
      events: 3_000,
      seed: 42,
      connections: 12,
      rss: () => process.memoryUsage().rss,
      collect,
      alive: () => t.arena.httpServer.listening,
      warmupEvents: 1_000,
      settleMs: 500,
      ackTimeoutMs: 5_000,
    });
    console.log(formatReport(report));
  }, 60_000);
  afterAll(() => t?.close());

  const findings = (type: string) => report.findings.filter((f) => f.type === type).map((f) => `${f.detail} ← #${f.index} ${f.kind}/${f.variant} ${f.event}: ${f.payload}`);

  it('sends every kind of hostile traffic', () => {
    expect(report.eventsSent).toBeGreaterThanOrEqual(3_000);
    for (const kind of ['valid', 'wrongType', 'missing', 'extra', 'hugeString', 'deepNest', 'unicode', 'numbers', 'unknownEvent', 'noAck', 'binary', 'raw', 'flood', 'handshake', 'crossSession'])
      expect(report.byKind[kind] ?? 0, kind).toBeGreaterThan(0);
    // Some of it did real work, and some connections were cut for oversized packets.
    expect(report.acks.ok).toBeGreaterThan(50);
    expect(report.connections.closedByServer).toBeGreaterThan(0);
  });

  it('keeps the server alive and serving a full duel afterwards', () => {
    expect(report.alive).toBe(true);
    expect(findings('crash')).toEqual([]);
    expect(report.afterCheck, report.afterCheck.detail).toMatchObject({ ok: true });
  });

  it('answers every request with a well-formed ack: no internal errors, no stack traces', () => {
    expect(findings('internal_error')).toEqual([]);
    expect(findings('stack_trace')).toEqual([]);
    expect(findings('malformed_ack')).toEqual([]);
    expect(findings('unanswered')).toEqual([]);
    expect(findings('unexpected_reply')).toEqual([]);
    expect(findings('size_limit')).toEqual([]);
  });

  it('keeps refusing what it should at the handshake', () => {
    expect(findings('handshake')).toEqual([]);
  });

  it('keeps error messages bounded (finding F2 until fixed)', () => {
    expect(findings('oversized_error').slice(0, 3)).toEqual([]);
  });

  it('keeps memory flat (after a forced GC)', () => {
    expect(report.rss).toBeDefined();
    expect(report.rss!.growthPct, `RSS ${report.rss!.warmMb} → ${report.rss!.endMb} MB`).toBeLessThan(report.rss!.boundPct);
    expect(findings('rss_growth')).toEqual([]);
  });
});
