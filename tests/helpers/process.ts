import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ArenaProcess {
  url: string;
  proc: ChildProcess;
  /** Every JSON log line the process wrote so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** SIGTERM, then resolves with the exit code and how long the exit took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** The built production server (`node dist/arena.mjs serve`), as a separate process. */
export async function startArenaProcess(env: Record<string, string> = {}): Promise<ArenaProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'arena-proc-'));
  const proc = spawn(process.execPath, ['dist/arena.mjs', 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ARENA_DEMO: 'on', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`arena did not start: ${stderr}`)), 30_000);
    proc.stdout!.on('data', (chunk) => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const entry = JSON.parse(line);
          logs.push(entry);
          if (entry.msg === 'arena listening') (clearTimeout(timer), resolve(entry.url));
        } catch {
          /* not a log line */
        }
      }
    });
    proc.once('exit', (code) => (clearTimeout(timer), reject(new Error(`arena exited with ${code}: ${stderr}`))));
  });
  return {
    url,
    proc,
    logs,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        const started = Date.now();
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, ms: 0 });
        proc.once('exit', (code) => {
          rmSync(dataDir, { recursive: true, force: true });
          resolve({ code, ms: Date.now() - started });
        });
        proc.kill('SIGTERM');
      }),
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['dist/arena.mjs', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
