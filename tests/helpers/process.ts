import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnArena, stopProcess } from '../../scripts/lib/arena-process.js';
import { runToEnd } from '../../scripts/lib/process.js';

export interface ArenaProcess {
  url: string;
  /** /metrics, on its own listener. */
  metricsUrl: string;
  proc: ChildProcess;
  /** Every JSON log line the process wrote so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** SIGTERM, then resolves with the exit code and how long the exit took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** The built production server (`node dist/arena.mjs serve`), as a separate process, demo on, fresh data dir. */
export async function startArenaProcess(env: Record<string, string> = {}): Promise<ArenaProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'arena-proc-'));
  const logs: Record<string, unknown>[] = [];
  const { url, metricsUrl, proc, stderr } = await spawnArena({ env: { DATA_DIR: dataDir, ARENA_DEMO: 'on', ...env }, onLog: (entry) => logs.push(entry) });
  return {
    url,
    metricsUrl,
    proc,
    logs,
    stderr,
    stop: async () => {
      const stopped = await stopProcess(proc);
      rmSync(dataDir, { recursive: true, force: true });
      return stopped;
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runToEnd(['dist/arena.mjs', ...args], { env });
}
