/**
 * The built production server (`node dist/arena.mjs serve`) as a child process on an ephemeral
 * 127.0.0.1 port: the one way the harnesses start it (e2e tests via tests/helpers/process.ts, and
 * scripts/fuzz.ts, which soak.ts reuses), so they agree on how "started" is detected. Spawning,
 * waiting and stopping: the shared helper, scripts/lib/process.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { spawnProcess, stopProcess, waitForLine } from './process.js';

export { stopProcess };

export type LogEntry = Record<string, unknown>;

export interface SpawnArenaOptions {
  /** Over the defaults (PORT 0, HOST 127.0.0.1, LOG_LEVEL info); DATA_DIR and ARENA_DEMO are the caller's. */
  env: Record<string, string>;
  /** Node flags before the script (fuzz preloads its GC hook here). */
  nodeArgs?: string[];
  /** Arguments after `serve` (e.g. `--workers 2`). */
  serveArgs?: string[];
  /** Every JSON log line the process writes to stdout, from the first on. */
  onLog?: (entry: LogEntry) => void;
  /** Sees each stderr chunk first; returns the part of it `stderr()` keeps (default: all). */
  onStderr?: (chunk: string) => string;
  /** `stderr()` keeps only this many trailing characters (default: no limit). */
  stderrLimit?: number;
}

export interface SpawnedArena {
  url: string;
  /** Prometheus scrape URL: its own listener on 127.0.0.1 (METRICS_PORT 0: a free port). */
  metricsUrl: string;
  proc: ChildProcess;
  stderr(): string;
}

/** Starts the server and resolves once it logs 'arena listening' (rejects if it exits first, or after 30 s). */
export async function spawnArena(opts: SpawnArenaOptions): Promise<SpawnedArena> {
  if (!existsSync('dist/arena.mjs')) throw new Error('dist/arena.mjs not found: run `npm run build` first (from the repository root)');
  const spawned = spawnProcess({
    args: [...(opts.nodeArgs ?? []), 'dist/arena.mjs', 'serve', ...(opts.serveArgs ?? [])],
    // MALLOC_ARENA_MAX as `npm start` and the Docker image set it, so memory is measured as deployed.
    env: { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2', PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'info', ...opts.env },
    onStderr: opts.onStderr,
    stderrLimit: opts.stderrLimit,
  });
  // Every JSON log line, from the first on, for as long as the process runs.
  spawned.onLine((line) => {
    const entry = parseObject(line);
    if (entry) opts.onLog?.(entry);
  });
  const { url, metricsUrl } = await waitForLine(
    spawned,
    (line) => {
      const entry = parseObject(line);
      return entry?.msg === 'arena listening' ? { url: String(entry.url), metricsUrl: String(entry.metricsUrl) } : undefined;
    },
    { name: 'arena' },
  );
  return { url, metricsUrl, proc: spawned.proc, stderr: spawned.stderr };
}

function parseObject(line: string): LogEntry | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as LogEntry) : undefined;
  } catch {
    return undefined;
  }
}
