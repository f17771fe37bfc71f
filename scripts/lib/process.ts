/**
 * The one child-process helper for scripts/, bench/ and tests/: spawn with stdout read line by
 * line (always drained, so a full pipe never blocks the process being measured), wait for a line
 * (a "listening" message), stop (SIGTERM, optionally SIGKILL after a while), run a command to its
 * end, and find a free port. The Arena-specific start (dist/arena.mjs serve) is arena-process.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface SpawnOptions {
  /** Default: this Node binary. */
  command?: string;
  args: string[];
  cwd?: string;
  /** Over process.env. */
  env?: Record<string, string>;
  /** Sees each stderr chunk first; returns the part of it `stderr()` keeps (default: all). */
  onStderr?: (chunk: string) => string;
  /** `stderr()` keeps only this many trailing characters (default: no limit). */
  stderrLimit?: number;
}

export interface Spawned {
  proc: ChildProcess;
  /** What stderr said so far (after `onStderr`). */
  stderr(): string;
  /** Calls `listener` with every complete stdout line from now on; returns a function that removes it. */
  onLine(listener: (line: string) => void): () => void;
  /** Resolves once the process has exited (at once if it already has). */
  exited: Promise<void>;
}

export function spawnProcess(opts: SpawnOptions): Spawned {
  const proc = spawn(opts.command ?? process.execPath, opts.args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr += opts.onStderr ? opts.onStderr(d.toString()) : d.toString();
    if (opts.stderrLimit !== undefined) stderr = stderr.slice(-opts.stderrLimit);
  });
  const listeners = new Set<(line: string) => void>();
  let buffer = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      for (const listener of [...listeners]) listener(line);
    }
  });
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    else proc.once('exit', () => resolve());
  });
  return {
    proc,
    stderr: () => stderr,
    onLine: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
    exited,
  };
}

export interface WaitForLineOptions {
  /** How many matching lines to wait for (e.g. one per worker); the last match is returned. Default 1. */
  count?: number;
  timeoutMs?: number;
  /** Names the process in errors. */
  name?: string;
}

/**
 * Resolves with what `match` returns for a stdout line (the `count`-th line it matches); rejects
 * when the process exits first or after `timeoutMs` (default 30 s), with the tail of its stderr.
 */
export function waitForLine<T>(spawned: Spawned, match: (line: string) => T | undefined, opts: WaitForLineOptions = {}): Promise<T> {
  const name = opts.name ?? 'process';
  return new Promise((resolve, reject) => {
    let heard = 0;
    const done = (fn: () => void) => {
      clearTimeout(timer);
      off();
      spawned.proc.off('exit', onExit);
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`${name} did not start: ${spawned.stderr().slice(-2000)}`))), opts.timeoutMs ?? 30_000);
    const onExit = (code: number | null) => done(() => reject(new Error(`${name} exited with ${code}: ${spawned.stderr().slice(-2000)}`)));
    const off = spawned.onLine((line) => {
      const value = match(line);
      if (value !== undefined && ++heard >= (opts.count ?? 1)) done(() => resolve(value));
    });
    spawned.proc.once('exit', onExit);
  });
}

/**
 * SIGTERM (or `signal`), then the exit code and how long the exit took. `forceAfterMs` adds a SIGKILL for a
 * process that hangs on shutdown; a process that has already exited resolves at once (0 ms).
 */
export function stopProcess(proc: ChildProcess, forceAfterMs?: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; ms: number }> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, ms: 0 });
    const started = Date.now();
    const force = forceAfterMs === undefined ? undefined : setTimeout(() => proc.kill('SIGKILL'), forceAfterMs);
    proc.once('exit', (code) => (clearTimeout(force), resolve({ code, ms: Date.now() - started })));
    proc.kill(signal);
  });
}

/** Runs a command to its end and collects its output. */
export function runToEnd(args: string[], opts: { command?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(opts.command ?? process.execPath, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}
