/**
 * The built production server (`node dist/arena.mjs serve`) as a child process on an ephemeral
 * 127.0.0.1 port: the one way the harnesses start it (e2e tests via tests/helpers/process.ts, and
 * scripts/fuzz.ts, which soak.ts reuses), so they agree on how "started" is detected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';

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
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), 'dist/arena.mjs', 'serve', ...(opts.serveArgs ?? [])], {
    // MALLOC_ARENA_MAX as `npm start` and the Docker image set it, so memory is measured as deployed.
    env: { MALLOC_ARENA_MAX: '2', ...process.env, PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', LOG_LEVEL: 'info', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += opts.onStderr ? opts.onStderr(d.toString()) : d.toString();
    if (opts.stderrLimit !== undefined) stderr = stderr.slice(-opts.stderrLimit);
  });
  const { url, metricsUrl } = await listening(proc, opts.onLog, () => stderr);
  return { url, metricsUrl, proc, stderr: () => stderr };
}

function listening(
  proc: ChildProcess,
  onLog: ((entry: LogEntry) => void) | undefined,
  stderr: () => string,
): Promise<{ url: string; metricsUrl: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`arena did not start: ${stderr()}`)), 30_000);
    onJsonLines(proc.stdout!, (entry) => {
      onLog?.(entry);
      if (entry.msg === 'arena listening') (clearTimeout(timer), resolve({ url: String(entry.url), metricsUrl: String(entry.metricsUrl) }));
    });
    proc.once('exit', (code) => (clearTimeout(timer), reject(new Error(`arena exited with ${code}: ${stderr()}`))));
  });
}

/** Each complete line of `stream` that is a JSON object (a log entry); anything else is skipped. */
function onJsonLines(stream: Readable, onEntry: (entry: LogEntry) => void): void {
  let buffer = '';
  stream.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const entry = parseObject(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      if (entry) onEntry(entry);
    }
  });
}

function parseObject(line: string): LogEntry | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' ? (value as LogEntry) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * SIGTERM, then the exit code and how long the exit took. `forceAfterMs` adds a SIGKILL for a
 * process that hangs on shutdown; a process that has already exited resolves at once (0 ms).
 */
export function stopProcess(proc: ChildProcess, forceAfterMs?: number): Promise<{ code: number | null; ms: number }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, ms: 0 });
    const started = Date.now();
    const force = forceAfterMs === undefined ? undefined : setTimeout(() => proc.kill('SIGKILL'), forceAfterMs);
    proc.once('exit', (code) => (clearTimeout(force), resolve({ code, ms: Date.now() - started })));
    proc.kill('SIGTERM');
  });
}
