/**
 * Harness-only (never server code): node flags that preload, into a server the harness starts,
 * `--expose-gc` and a SIGUSR2 handler that runs two full GCs and writes the memory left to stderr.
 * A measurement can then start and end on a collected heap, so a V8 heap that merely has not been
 * collected yet is not mistaken for a leak (fuzz, soak, bench).
 */
import type { ChildProcess } from 'node:child_process';

export interface GcReport {
  rss: number;
  heapUsed: number;
  /** V8 heap committed: used + free pages V8 has not returned yet. */
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

const PRELOAD = `process.on('SIGUSR2', () => { globalThis.gc(); setTimeout(() => { globalThis.gc(); const m = process.memoryUsage(); process.stderr.write('ARENA_HARNESS_GC ' + JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers }) + '\\n'); }, 200); });`;

export const GC_HOOK_NODE_ARGS = ['--expose-gc', '--import', `data:text/javascript,${encodeURIComponent(PRELOAD)}`];

/** Answers `collect()` from the process's stderr; `filter` removes the reports from a chunk. */
export function gcReports(proc: ChildProcess) {
  const waiters: ((m: GcReport) => void)[] = [];
  return {
    /** Feed every stderr chunk here; returns the chunk without the hook's lines. */
    filter(chunk: string): string {
      for (const line of chunk.split('\n')) {
        const m = /^ARENA_HARNESS_GC (\{.*\})$/.exec(line);
        if (m) waiters.shift()?.(JSON.parse(m[1]!) as GcReport);
      }
      return chunk.replace(/^ARENA_HARNESS_GC .*\n?/gm, '');
    },
    /** Full GC in the server, then its memory. */
    collect(): Promise<GcReport> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no GC report from the server')), 10_000);
        waiters.push((m) => (clearTimeout(timer), resolve(m)));
        proc.kill('SIGUSR2');
      });
    },
  };
}
