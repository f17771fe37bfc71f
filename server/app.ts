import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import nodeCluster from 'node:cluster';
import { createAdapter as createMachineAdapter } from '@socket.io/cluster-adapter';
import { createShardedAdapter } from '@socket.io/redis-adapter';
import type { Ack } from '../src/lib/shared/protocol.js';
import { BattleService, type ArenaModels, type RemoteAction } from './arena/battles.js';
import { newId } from './arena/ids.js';
import { MachineCluster } from './cluster/machine-cluster.js';
import { RedisCluster } from './cluster/redis-cluster.js';
import { LocalCluster, type Cluster } from './cluster/types.js';
import { connectRedis } from './redis.js';
import { createRateLimits } from './realtime/limits.js';
import { toFastChatBattle, toPreferencePair } from './arena/export.js';
import { defaultLeakWords } from './arena/leak.js';
import { resolveBackends } from './bootstrap.js';
import { describeConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { createHttpHandler, json } from './http/routes.js';
import { createLogger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import { createModelOps } from './models/ops.js';
import { publicStatus } from './models/status.js';
import { ModelRegistry } from './models/registry.js';
import { LiveLeaderboard } from './rating/live.js';
import { pairingStatsFromLeaderboard, samplePair } from './rating/pairing.js';
import { createToolPath } from './router/tool-path.js';
import type { RoomRelay } from './realtime/relay.js';
import { createRealtime, leaderboardRoom, STATUS_ROOM, type ArenaIo } from './realtime/socket.js';
import { openStore } from './store/index.js';
import type { Store } from './store/types.js';

export type UiHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface ArenaOptions {
  logger?: Logger;
  /** SvelteKit's adapter-node handler; without it only Arena's own endpoints answer. */
  ui?: UiHandler;
  /** Attach to an existing server (Vite dev) instead of creating one; its requests are not routed. */
  httpServer?: HttpServer;
  leaderboardDebounceMs?: number;
}

export interface Arena {
  httpServer: HttpServer;
  io: ArenaIo;
  config: Config;
  store: Store;
  registry: ModelRegistry;
  battles: BattleService;
  metrics: Metrics;
  logger: Logger;
  /** Arena's HTTP endpoints as middleware (Vite dev mounts it). */
  http: ReturnType<typeof createHttpHandler>;
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createArena(declared: Config, opts: ArenaOptions = {}): Promise<Arena> {
  const logger = opts.logger ?? createLogger(declared.logLevel);
  const { config, demo } = await resolveBackends(declared, logger);
  const store = openStore(config, logger);
  // Workers of `arena serve --workers N` without Redis share state through the primary process.
  const shared = config.redisUrl ? connectShared(config.redisUrl, config.redisPrefix, logger) : nodeCluster.isWorker ? connectMachine(logger) : null;
  const cluster: Cluster = shared?.cluster ?? new LocalCluster(newId());
  const registry = new ModelRegistry(config, logger);
  await registry.refresh();
  registry.start(config.discovery.intervalMs);
  const modelOps = createModelOps({ config, registry, logger });
  await modelOps.start();
  const tools = await createToolPath({ config, registry, logger });
  const metrics = createMetrics();
  const httpServer = opts.httpServer ?? createServer();

  // `io` is created below; these closures only run once clients are connected.
  let io: ArenaIo;
  let relay: RoomRelay;
  const leaderboard = new LiveLeaderboard({
    store,
    logger,
    debounceMs: opts.leaderboardDebounceMs ?? 250,
    // Each instance recomputes from the shared store and pushes to its own subscribers.
    publish: (excludeTies, board) => io.local.to(leaderboardRoom(excludeTies)).emit('leaderboard:update', board),
  });
  const battles = new BattleService({
    store,
    cluster,
    logger,
    metrics,
    models: arenaModels(config, registry),
    limits: config.arena,
    tools,
    pickPair: (models, exclude) =>
      samplePair(config.arena.pairing, models, pairingStatsFromLeaderboard(leaderboard.latest() ?? { rows: [] }), Math.random, exclude),
    broadcast: (battleId, events) => relay.sendFrame(battleId, events),
    forward: (action) => forwardToOwner(io, action),
    onVote: () => {
      leaderboard.invalidate();
      if (cluster.shared) io.serverSideEmit('arena:votes');
    },
  });
  metrics.countStreamingBattlesWith(() => battles.streamingBattles());
  void leaderboard.get(false).catch((err) => logger.error({ err }, 'initial leaderboard failed'));
  ({ io, relay } = createRealtime(httpServer, {
    battles,
    logger,
    metrics,
    allowedOrigins: config.allowedOrigins,
    limits: createRateLimits(config.limits, shared?.redis ?? null, config.redisPrefix),
    trustProxy: config.trustProxy,
    maxBufferedPackets: config.limits.maxBufferedPackets,
    leaderboard: (excludeTies) => leaderboard.get(excludeTies),
    onRemoteVote: () => leaderboard.invalidate(),
    status: () => publicStatus(modelOps.status()),
    adapter: shared?.adapter,
  }));

  // Each instance probes on its own (docs/operations.md) and pushes to its own status viewers.
  modelOps.on('change', (snapshot) => io.local.to(STATUS_ROOM).emit('status:update', publicStatus(snapshot)));

  const http = createHttpHandler({
    logger,
    metricsRegistry: metrics.registry,
    modelsReport: () => registry.report(),
    status: () => publicStatus(modelOps.status()),
    readiness: async () => {
      const storeOk = await store.ping();
      const available = registry.availableModels().length;
      const checks: Record<string, { ok: boolean; detail?: string }> = {
        store: { ok: storeOk, detail: store.kind },
        models: { ok: available >= 2, detail: `${available} arena models available (need 2)` },
      };
      if (shared?.redis) checks.redis = { ok: shared.redis.status === 'ready', detail: shared.redis.status };
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
    exportLines: (kind) => exportLines(store, kind),
    adminToken: config.adminToken,
    exportAccess: config.exportAccess,
    admin: {
      config: () => describeConfig(config),
      status: () => modelOps.status(),
      refreshModels: async () => {
        await registry.refresh();
        return registry.report();
      },
    },
  });
  if (!opts.httpServer) {
    httpServer.on('request', (req, res) => http(req, res, () => (opts.ui ? opts.ui(req, res, () => notFound(res)) : notFound(res))));
  }

  let closed: Promise<void> | null = null;
  return {
    httpServer,
    io,
    config,
    store,
    registry,
    battles,
    metrics,
    logger,
    http,
    listen: (port = config.port, host = config.host) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const { port: actual } = httpServer.address() as AddressInfo;
          const url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actual}`;
          logger.info({ url, store: store.kind, models: registry.availableModels().length }, 'arena listening');
          resolve(url);
        });
      }),
    close: () =>
      (closed ??= (async () => {
        await battles.shutdown();
        leaderboard.close();
        registry.stop();
        await modelOps.stop();
        if (opts.httpServer) io.disconnectSockets(true);
        else await new Promise<void>((resolve) => io.close(() => resolve()));
        await cluster.close();
        await store.close();
        await shared?.close();
        await demo?.close();
      })()),
  };
}

/** Redis connections for the cluster (leases, logs) and the sharded Socket.IO adapter. */
function connectShared(url: string, prefix: string, logger: Logger) {
  const redis = connectRedis(url, logger, 'cluster');
  // No offline queue for publishing: while Redis is down a broadcast must reach local clients at
  // once (the adapter awaits the publish before delivering locally), not after retries.
  const pub = connectRedis(url, logger, 'adapter-pub', { enableOfflineQueue: false, enableAutoPipelining: true });
  const sub = connectRedis(url, logger, 'adapter-sub');
  return {
    redis,
    cluster: new RedisCluster({ redis, prefix, instanceId: newId(), logger }),
    adapter: createShardedAdapter(pub, sub, { channelPrefix: `${prefix}sio`, subscriptionMode: 'dynamic' }),
    close: async () => {
      for (const client of [redis, pub, sub]) client.disconnect();
    },
  };
}

/** A worker of `arena serve --workers N` without Redis: leases and logs in the primary, rooms through the cluster adapter. */
function connectMachine(logger: Logger) {
  return { redis: null, cluster: new MachineCluster(newId(), logger), adapter: createMachineAdapter(), close: async () => {} };
}

/** Asks every other instance to run an owner action; the one holding the battle answers. */
async function forwardToOwner(io: ArenaIo, action: RemoteAction): Promise<Ack | null> {
  // The adapter's request timeout bounds the wait; a late or dead instance just leaves no answer.
  return new Promise((resolve) => {
    const collect = (_err: Error | null, responses: (Ack | null)[]) => resolve(responses?.find((r) => r) ?? null);
    (io.serverSideEmit as (ev: string, ...args: unknown[]) => void)('arena:forward', action, collect);
  });
}

function arenaModels(config: Config, registry: ModelRegistry): ArenaModels {
  const demoBackends = new Set(config.backends.filter((b) => b.demo).map((b) => b.id));
  // model() also knows models that just went down, so a reveal keeps their label.
  const find = (id: string) => registry.model(id);
  return {
    available: () => registry.availableModels().map((m) => m.id),
    describe: (id) => {
      const model = find(id);
      return { label: model?.label ?? id, demo: Boolean(model?.deployments.some((d) => demoBackends.has(d.backendId))) };
    },
    leakWords: (id) => find(id)?.leakWords ?? defaultLeakWords(id),
    stream: (id, req) => registry.stream(id, req),
  };
}

async function* exportLines(store: Store, kind: 'battles' | 'preferences'): AsyncIterable<string> {
  for await (const battle of store.listVotedBattles()) {
    const row = kind === 'battles' ? toFastChatBattle(battle) : toPreferencePair(battle);
    if (row) yield JSON.stringify(row);
  }
}

function notFound(res: ServerResponse): void {
  json(res, 404, { error: { code: 'not_found', message: 'not found' } });
}
