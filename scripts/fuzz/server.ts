/** The server under fuzz as a child process (built dist/arena.mjs), and its memory from /proc. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnArena, stopProcess } from '../lib/arena-process.js';
import { GC_HOOK_NODE_ARGS, gcReports, type GcReport } from '../lib/gc-hook.js';

/** Resident set size of a process, in bytes (Linux /proc). */
export function procRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

/** Open file descriptors of a process (sockets, files, pipes). */
export function procFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export interface ServerProcess {
  url: string;
  /** /metrics, on its own listener. */
  metricsUrl: string;
  proc: ChildProcess;
  /** Forces a full GC in the server (SIGUSR2 to the harness preload) and returns its memory afterwards. */
  gc(): Promise<GcReport>;
  /** error/fatal log lines (capped), for the report. */
  errors: Record<string, unknown>[];
  /** The last 64 KiB of stderr. */
  stderr(): string;
  stop(): Promise<number | null>;
}

/**
 * The built server (`node dist/arena.mjs serve`) on an ephemeral port, its models on `simUrl`,
 * with `config` merged into a temporary config file. Only its errors are kept from its log.
 */
export async function startServerProcess(opts: { simUrl: string; config?: Record<string, unknown>; env?: Record<string, string> }): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'arena-fuzz-'));
  const configFile = join(dir, 'arena.config.yaml');
  // JSON is YAML.
  writeFileSync(configFile, JSON.stringify({ backends: [{ id: 'sim', kind: 'ollama', url: opts.simUrl }], ...opts.config }, null, 2));
  const errors: Record<string, unknown>[] = [];
  let reports: ReturnType<typeof gcReports> | undefined;
  const { url, metricsUrl, proc, stderr } = await spawnArena({
    nodeArgs: GC_HOOK_NODE_ARGS,
    env: { DATA_DIR: join(dir, 'data'), ARENA_CONFIG: configFile, ARENA_DEMO: 'off', ...opts.env },
    onLog: (entry) => {
      if (Number(entry.level) >= 50 && errors.length < 200) errors.push(entry);
    },
    // The hook's GC reports share stderr with the server: answer gc() with them, keep the rest.
    onStderr: (chunk) => reports?.filter(chunk) ?? chunk,
    stderrLimit: 65_536,
  });
  reports = gcReports(proc);
  const gc = reports.collect;
  return {
    url,
    metricsUrl,
    proc,
    errors,
    gc,
    stderr,
    stop: async () => {
      const { code } = await stopProcess(proc, 15_000);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Fast simulated models, so battles finish quickly and the server, not the models, is under test. */
export const FAST_MODELS = [
  { name: 'fz-alpha:1b', family: 'alpha', tokensPerSecond: 300, ttftMs: 10, maxTokens: 40 },
  { name: 'fz-beta:2b', family: 'beta', tokensPerSecond: 300, ttftMs: 10, maxTokens: 40 },
  { name: 'fz-gamma:3b', family: 'gamma', tokensPerSecond: 300, ttftMs: 10, maxTokens: 40 },
  { name: 'fz-delta:4b', family: 'delta', tokensPerSecond: 300, ttftMs: 10, maxTokens: 40 },
];
