import nodeCluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { setupPrimary } from '@socket.io/cluster-adapter';
import type { Logger } from 'pino';
import { RateLimiterClusterMaster } from 'rate-limiter-flexible';
import { IPC_TAG, type IpcFrames, type IpcReply, type IpcRequest, type IpcStopAll } from './cluster/machine-cluster.js';
import { MachineCoordinator } from './cluster/machine-coordinator.js';
import { ConfigError } from './config/load.js';

/** A worker that dies this soon after it started counts towards the crash-loop limit. */
const EARLY_EXIT_MS = 10_000;
const MAX_EARLY_EXITS = 5;

/** `--workers N` (a positive integer) or `auto` (one per core); default 1. */
export function parseWorkers(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new ConfigError(`--workers must be a whole number from 1 to 256, or auto (got ${JSON.stringify(value)})`);
  return n;
}

/**
 * The primary of `arena serve --workers N`: forks N workers that all listen on the configured
 * port (node:cluster hands connections out round-robin; clients speak WebSocket only, so a
 * connection never needs the worker that served an earlier request). Without Redis the primary
 * also holds what the workers must agree on (MachineCoordinator) and relays Socket.IO room
 * broadcasts between them (@socket.io/cluster-adapter). A worker that dies is replaced; its
 * streaming battles are taken over by another worker once its leases lapse.
 */
export function runPrimary(count: number, opts: { logger: Logger; withRedis: boolean; graceMs: number }): void {
  const { logger } = opts;
  if (!opts.withRedis) {
    setupPrimary();
    // The workers' rate limits (server/realtime/limits.ts) count here, once for the machine.
    new RateLimiterClusterMaster();
    const coordinator = new MachineCoordinator();
    setInterval(() => coordinator.sweep(), 60_000).unref();
    nodeCluster.on('message', (worker: Worker, msg: unknown) => {
      if (!msg || typeof msg !== 'object' || !(IPC_TAG in msg)) return;
      const { [IPC_TAG]: id, req } = msg as IpcRequest;
      // The other workers' sockets get the appended frames now (MachineCluster's onRemoteFrames).
      if (req.op === 'append') {
        const frames: IpcFrames = { [IPC_TAG]: 0, frames: req.batches };
        for (const other of Object.values(nodeCluster.workers ?? {})) if (other && other !== worker && other.isConnected()) other.send(frames);
      }
      const result = coordinator.handle(req);
      // Id 0: a one-way message (log appends), nobody waits for a reply.
      if (id === 0) return;
      const reply: IpcReply = { [IPC_TAG]: id, result };
      if (worker.isConnected()) worker.send(reply);
    });
  }

  let stopping = false;
  const earlyExits: number[] = [];
  const startedAt = new Map<number, number>();
  const fork = () => {
    const worker = nodeCluster.fork();
    startedAt.set(worker.id, Date.now());
    logger.info({ worker: worker.id, pid: worker.process.pid }, 'worker started');
  };
  nodeCluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) {
      if (Object.keys(nodeCluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ worker: worker.id, code, signal, livedMs: lived }, 'worker exited: starting another');
    if (lived < EARLY_EXIT_MS) earlyExits.push(Date.now());
    if (earlyExits.filter((t) => t > Date.now() - 60_000).length >= MAX_EARLY_EXITS) {
      logger.fatal({ exits: MAX_EARLY_EXITS }, 'workers keep exiting right after they start: giving up');
      stop('crash-loop', 1);
      return;
    }
    fork();
  });
  for (let i = 0; i < count; i++) fork();
  logger.info({ workers: count, shared: opts.withRedis ? 'redis' : 'primary process' }, 'arena workers starting');

  function stop(reason: string, exitCode = 0): void {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping every worker');
    const workers = Object.values(nodeCluster.workers ?? {}).filter((w): w is Worker => Boolean(w));
    if (workers.length === 0) process.exit(exitCode);
    // Workers stop on this message (they ignore SIGINT, so Ctrl-C on the terminal reaches only us).
    const stopAll: IpcStopAll = { [IPC_TAG]: 0, stopAll: true };
    // With Redis, SIGTERM: each worker hands its streaming battles off like any instance.
    for (const w of workers) {
      if (!opts.withRedis && w.isConnected()) w.send(stopAll);
      else w.process.kill('SIGTERM');
    }
    setTimeout(() => {
      logger.error({ graceMs: opts.graceMs }, 'workers took too long to stop: exiting');
      process.exit(1);
    }, opts.graceMs + 1_000).unref();
    if (exitCode) process.exitCode = exitCode;
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
