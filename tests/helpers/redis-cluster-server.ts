import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopProcess } from '../../scripts/lib/process.js';
import { promisify } from 'node:util';
import type { RedisServer } from './redis-server.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A private Redis Cluster of `masters` masters (no replicas) on `basePort`, `basePort + 1`, …
 * (and their bus ports, +10000), with AOF (fsync always), for tests that take all of Redis away.
 * `kill` stops every node at once ("Redis down"); `start` restarts them on their data and
 * nodes.conf, so the same cluster re-forms, and resolves once every node reports cluster_state:ok.
 * `url` is the seed list (comma-separated), as Arena's redisUrl takes it.
 */
export async function startRedisClusterServer(opts: { basePort: number; masters?: number }): Promise<RedisServer> {
  const ports = Array.from({ length: opts.masters ?? 3 }, (_, i) => opts.basePort + i);
  const dir = mkdtempSync(join(tmpdir(), 'arena-redis-cluster-'));
  const cli = (port: number, ...args: string[]) => run('redis-cli', ['-p', String(port), ...args], { timeout: 5_000 }).then((r) => r.stdout);
  let procs: ChildProcess[] = [];
  let created = false;

  const healthy = async () => {
    for (const port of ports) {
      const info = await cli(port, 'cluster', 'info').catch(() => '');
      if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
    }
    return true;
  };

  const server: RedisServer = {
    url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','),
    async start() {
      procs = ports.map((port) => {
        mkdirSync(join(dir, String(port)), { recursive: true });
        return spawn(
          'redis-server',
          // A refused start (the port is taken) must be seen, not waited for forever.
          ['--port', String(port), '--bind', '127.0.0.1', '--dir', join(dir, String(port)), '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
            '--cluster-node-timeout', '2000', '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
          { stdio: 'ignore' },
        );
      });
      for (const port of ports) {
        for (let i = 0; ; i++) {
          if ((await cli(port, 'ping').catch(() => '')).trim() === 'PONG') break;
          if (i > 100 || procs.some((p) => p.exitCode !== null)) throw new Error(`redis-server on ${port} did not start`);
          await sleep(50);
        }
      }
      if (!created) {
        await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
        created = true;
      }
      // Restarted nodes find each other again from nodes.conf.
      for (let i = 0; !(await healthy()); i++) {
        if (i > 300) throw new Error('redis cluster did not become healthy');
        await sleep(100);
      }
    },
    kill: async (signal = 'SIGKILL') => {
      await Promise.all(procs.map((proc) => stopProcess(proc, undefined, signal)));
    },
    async close() {
      await server.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
