import { describe, expect, it } from 'vitest';
import { fuzzServerOverHttp } from '../../scripts/fuzz/http.js';
import { formatHttpReport } from '../../scripts/fuzz/http-run.js';

/**
 * The short, in-suite version of the HTTP fuzzer (`npx tsx scripts/fuzz/http.ts`, part of
 * `npm run fuzz`): 2,000 seeded raw requests and TCP garbage against the built server process.
 */
describe('HTTP fuzzing (short run)', () => {
  it('answers every complete request once, well-formed, without a stack trace; stays up, flat and fault-free', async () => {
    const { report, serverErrors } = await fuzzServerOverHttp({ requests: 2_000, seed: 42 });
    console.log(formatHttpReport(report));
    expect(report.requestsSent).toBe(2_000);
    for (const kind of ['route', 'engine', 'badHeader', 'bigHeader', 'oddUrl', 'body', 'truncated', 'slow', 'pipelined', 'garbage'])
      expect(report.byKind[kind] ?? 0, kind).toBeGreaterThan(0);
    expect(report.findings).toEqual([]);
    expect(report.alive).toBe(true);
    expect(report.faults).toBe(0);
    expect(report.memory).toBeDefined();
    expect(serverErrors).toEqual([]);
    expect(report.pass).toBe(true);
  }, 90_000);
});
