import { createServer, type IncomingMessage, type RequestListener, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import nodeCluster from 'node:cluster';
import { createAdapter as createMachineAdapter } from '@socket.io/cluster-adapter';
import { createBattles, type ArenaModels, type Battles } from './arena/battles.js';
import { newId } from './arena/ids.js';
import { CATCH_UP_AFTER_MS, connectShared } from './cluster/shared-redis.js';
import { MachineCluster } from './cluster/machine-cluster.js';
import { LocalCluster, type Cluster } from './cluster/types.js';
import { createRateLimits } from './realtime/limits.js';
import { exportLines } from './arena/export-lines.js';
import { leakWords } from './arena/leak.js';
import { resolveBackends } from './bootstrap.js';
import { describeConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { answerClientErrors } from './http/client-errors.js';
import { createMetricsServer } from './http/metrics-server.js';
import { createHttpHandler, json } from './http/routes.js';
import { createLogger } from './infra/log.js';
import { createMetrics, type Metrics } from './infra/metrics.js';
import { createModelOps } from './models/ops.js';
import { publicChanges, publicStatus } from './models/public-status.js';
import { ModelRegistry } from './models/registry.js';
import { LiveLeaderboard } from './rating/live.js';
import { pairingStatsFromLeaderboard, samplePair } from './rating/pairing.js';
import { createToolPath } from './router/tool-path.js';
import { createRoomRelay, type ArenaIo, type RoomRelay } from './realtime/relay.js';
import { createIo, leaderboardRoom, serveClients, STATUS_ROOM } from './realtime/socket.js';
import { configRedisTarget, openStore } from './store/index.js';
import type { Store } from './store/types.js';

export type UiHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

export interface ArenaOptions {
  logger?: Logger;
  /** SvelteKit's adapter-node handler; without it only Arena's own endpoints answer. */
  ui?: UiHandler;
  /** Attach to an existing server (Vite dev) instead of creating one; its requests are not routed. */
  httpServer?: HttpServer;
  leaderboardDebounceMs?: number;
  /** How often today's board snapshots are rewritten (default 1 h). */
  snapshotEveryMs?: number;
}

export interface Arena {
  httpServer: HttpServer;
  io: ArenaIo;
  /** Every message between instances (realtime/relay.ts); battles publish through it. */
  relay: RoomRelay;
  config: Config;
  store: Store;
  registry: ModelRegistry;
  battles: Battles;
  metrics: Metrics;
  logger: Logger;
  /** Where /metrics is served once `listen` resolved (its own listener, `metrics.host`:`metrics.port`). */
  metricsUrl(): string | undefined;
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
  const redisAt = configRedisTarget(config);
  const shared = redisAt ? connectShared(redisAt, config.redisPrefix, logger, config.redisClusterBuckets) : nodeCluster.isWorker ? connectMachine(logger) : null;
  const cluster: Cluster = shared?.cluster ?? new LocalCluster(newId());
  const registry = new ModelRegistry(config, logger);
  await registry.refresh();
  registry.start(config.discovery.intervalMs);
  const modelOps = createModelOps({ config, registry, logger });
  await modelOps.start();
  const tools = await createToolPath({ config, registry, logger });
  const metrics = createMetrics();
  // The app's request listener must exist before Socket.IO attaches: engine.io takes the listeners
  // present at attach time and calls them only for paths outside /socket.io/. A listener added
  // later would also get the engine's requests and answer them a second time (ERR_HTTP_HEADERS_SENT).
  let answerAppRequest: RequestListener = (_req, res) => notFound(res);
  const httpServer = opts.httpServer ?? createServer((req, res) => answerAppRequest(req, res));

  // The realtime side first: battles publish through the relay (their port), clients come last.
  const io = createIo(httpServer, { allowedOrigins: config.allowedOrigins, adapter: shared?.adapter });
  const remoteFrames = cluster.onRemoteFrames?.bind(cluster);
  const relay = createRoomRelay(io, { shared: Boolean(shared), logger, publisherReady: shared?.publisherReady, remoteFrames });
  const leaderboard = new LiveLeaderboard({
    store,
    logger,
    debounceMs: opts.leaderboardDebounceMs ?? 250,
    // Each instance recomputes from the shared store and pushes to its own subscribers.
    publish: (board) => io.local.to(leaderboardRoom(board.excludeTies, board.category)).emit('leaderboard:update', board),
    hygiene: config.arena.hygiene,
    snapshotEveryMs: opts.snapshotEveryMs,
    followed: (category, excludeTies) => (io.of('/').adapter.rooms.get(leaderboardRoom(excludeTies, category))?.size ?? 0) > 0,
  });
  const battles = createBattles({
    store,
    cluster,
    logger,
    metrics,
    models: arenaModels(config, registry),
    limits: config.arena,
    tools,
    publicExport: config.exportAccess === 'public',
    pickPair: (models, exclude) =>
      samplePair(config.arena.pairing, models, pairingStatsFromLeaderboard(leaderboard.latest() ?? { rows: [] }), Math.random, exclude),
    port: relay,
    onVote: () => leaderboard.invalidate(),
  });
  relay.answer({ ownerAction: (action) => battles.commands.handleRemote(action), votesChanged: () => leaderboard.invalidate() });
  metrics.countStreamingBattlesWith(() => battles.streamingBattles());
  void leaderboard.get(false).catch((err) => logger.error({ err }, 'initial leaderboard failed'));
  serveClients(io, relay, {
    battles,
    logger,
    metrics,
    limits: createRateLimits(config.limits, shared?.redis ?? null, config.redisPrefix),
    trustProxy: config.trustProxy,
    maxBufferedPackets: config.limits.maxBufferedPackets,
    leaderboard: (excludeTies, category) => leaderboard.get(excludeTies, category),
    status: () => publicStatus(modelOps.status()),
    roomReady: shared ? (room) => roomReady(shared, room) : undefined,
  });
  battles.start();

  /**
   * A join waits for its room's Redis subscription (a frame published before it is active never
   * reaches this instance). When it is not confirmed in time (Redis slow or down; on a cluster, the
   * node's sharded subscriber still connecting) the join goes on, and once the subscription is
   * active the room's sockets here get the battle's stored log (they drop what they have by seq):
   * whatever was published in between is not lost to them. Joins that waited for the same
   * subscription share one catch-up: it reaches every socket in the room.
   */
  const catchUpReader = (battleId: string) => battles.live.storedEventsForCatchUp(battleId);
  const lateRooms = new Set<string>();
  async function roomReady(sharedRedis: NonNullable<typeof shared>, room: string): Promise<void> {
    if (await sharedRedis.roomReady(room)) return;
    if (lateRooms.has(room)) return;
    lateRooms.add(room);
    void sharedRedis
      .roomSubscribedLate(room)
      .then((subscribed) => (subscribed ? relay.catchUp(catchUpReader, room) : undefined))
      .catch((err: Error) => logger.warn({ err: err.message, room }, 'catch-up after a late room subscription failed'))
      .finally(() => lateRooms.delete(room));
  }

  // Frames published while this instance's subscriber was away never arrive: once every instance
  // had time to reconnect and store its backlog, this instance's clients get their battles' logs
  // again (they drop what they have by seq).
  // Signals that come together (a failover's slot change and re-subscription) share one catch-up.
  let catchUpTimer: NodeJS.Timeout | undefined;
  shared?.onSubscriberBack(() => {
    catchUpTimer ??= setTimeout(() => {
      catchUpTimer = undefined;
      relay.catchUp(catchUpReader).catch((err: Error) => logger.warn({ err: err.message }, 'catch-up after an outage failed'));
    }, CATCH_UP_AFTER_MS).unref();
  });

  // Each instance probes on its own (docs/operations.md) and pushes to its own status viewers.
  modelOps.on('change', publicChanges((status) => io.local.to(STATUS_ROOM).emit('status:update', status)));

  const http = createHttpHandler({
    logger,
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
    exportLines: (kind) => exportLines(store, kind, config.arena.hygiene),
    history: (category, excludeTies) => store.listSnapshots(category, excludeTies),
    adminToken: config.adminToken,
    exportAccess: config.exportAccess,
    admin: {
      config: () => describeConfig(config),
      status: () => modelOps.status(),
      refreshModels: async () => {
        await registry.refresh();
        return registry.report();
      },
      hygiene: () => leaderboard.hygieneReport(),
      import: {
        importVotes: (votes) => store.importVotes(votes),
        imported: (added) => {
          logger.info({ added }, 'votes imported');
          leaderboard.invalidate();
          relay.announceVote();
        },
        maxBytes: config.limits.importMaxBytes,
      },
    },
  });
  if (!opts.httpServer) {
    answerAppRequest = (req, res) => http(req, res, () => (opts.ui ? opts.ui(req, res, () => notFound(res)) : notFound(res)));
    assertOneRequestListener(httpServer);
    answerClientErrors(httpServer);
  }

  const metricsServer = createMetricsServer(metrics.registry, logger);
  let metricsUrl: string | undefined;
  let closed: Promise<void> | null = null;
  return {
    httpServer,
    io,
    relay,
    config,
    store,
    registry,
    battles,
    metrics,
    logger,
    http,
    metricsUrl: () => metricsUrl,
    listen: async (port = config.port, host = config.host) => {
      metricsUrl = await metricsServer.listen(config.metrics.port, config.metrics.host);
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const { port: actual } = httpServer.address() as AddressInfo;
          const url = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actual}`;
          logger.info({ url, metricsUrl, store: store.kind, models: registry.availableModels().length }, 'arena listening');
          resolve(url);
        });
      });
    },
    close: () =>
      (closed ??= (async () => {
        await battles.close();
        leaderboard.close();
        registry.stop();
        await modelOps.stop();
        await metricsServer.close();
        if (opts.httpServer) io.disconnectSockets(true);
        // The callback fires once the HTTP server has closed too; the returned promise does not wait for that.
        else
          await new Promise<void>((resolve, reject) => {
            io.close(() => resolve()).catch(reject);
          });
        await cluster.close();
        await store.close();
        await shared?.close();
        await demo?.close();
      })()),
  };
}

/** A worker of `arena serve --workers N` without Redis: leases and logs in the primary, rooms through the cluster adapter. */
function connectMachine(logger: Logger) {
  return {
    redis: null,
    cluster: new MachineCluster(newId(), logger),
    adapter: createMachineAdapter(),
    // The primary relays between workers over IPC: nothing to wait for, no outage to recover from.
    publisherReady: async () => {},
    onSubscriberBack: () => {},
    roomReady: async () => true,
    roomSubscribedLate: async () => true,
    close: async () => {},
  };
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
    // Words from the arena id and every deployment's model name: `model-a` served by a Llama is a Llama.
    leakWords: (id) => {
      const model = find(id);
      return model?.leakWords ?? leakWords([id, ...(model?.deployments.map((d) => d.model) ?? [])]);
    },
    stream: (id, req) => registry.stream(id, req),
  };
}

/** Every request has exactly one answerer: engine.io's dispatcher, which wraps the app's listener. */
function assertOneRequestListener(server: HttpServer): void {
  const count = server.listenerCount('request');
  if (count !== 1) throw new Error(`HTTP server has ${count} request listeners; requests would be answered twice`);
}

function notFound(res: ServerResponse): void {
  json(res, 404, { error: { code: 'not_found', message: 'not found' } });
}
