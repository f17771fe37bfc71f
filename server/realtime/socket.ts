import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import {
  ClientSchemas,
  type AckResults,
  type ArenaError,
  type ClientEventName,
  type ClientToServerEvents,
  type ParsedPayload,
  type ServerToClientEvents,
} from '../../src/lib/shared/protocol.js';
import type { Battles, Caller } from '../arena/battles.js';
import { ArenaFailure, sharedStateUnavailable } from '../arena/errors.js';
import { isRedisUnavailable, REDIS_RETRY_AFTER_SECONDS } from '../infra/redis.js';
import type { Metrics } from '../infra/metrics.js';
import { RateLimited, type RateLimits } from './limits.js';
import { battleRoom, type ArenaIo, type InterServerEvents, type RoomRelay, type SocketData } from './relay.js';
import { sessionHashFrom } from '../../src/lib/server/session.js';
import { joinRoom, leaveRoom } from './rooms.js';

type ArenaSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export const STATUS_ROOM = 'status';
/** The overall boards keep their room names; a category board's room carries its id. */
export const leaderboardRoom = (excludeTies: boolean, category = 'overall') =>
  `leaderboard:${category === 'overall' ? '' : `${category}:`}${excludeTies ? 'decisive' : 'all'}`;

export interface ClientDeps {
  battles: Pick<Battles, 'commands' | 'reads'>;
  logger: Logger;
  metrics: Metrics;
  limits: RateLimits;
  trustProxy: boolean;
  /** Packets queued for one client before it is dropped (it resumes by seq when it returns). */
  maxBufferedPackets: number;
  /** Current board for a new subscriber (ratings service). */
  leaderboard(excludeTies: boolean, category: string): Promise<AckResults['leaderboard:subscribe']['board']>;
  /** The current backend/deployment health snapshot. */
  status(): AckResults['status:subscribe']['status'];
  /** With the Redis adapter: resolves once this instance receives the room's frames from the others. */
  roomReady?(room: string): Promise<unknown>;
}

type Handler<E extends ClientEventName> = (socket: ArenaSocket, payload: ParsedPayload<E>) => Promise<AckResults[E]>;

/**
 * The Socket.IO server, before any client is served. `adapter`: the Redis or cluster adapter when
 * several instances share the arena (what crosses them is in relay.ts).
 */
export function createIo(httpServer: HttpServer, opts: { allowedOrigins: string[]; adapter?: ServerOptions['adapter'] }): ArenaIo {
  return new Server(httpServer, {
    // WebSocket only: no sticky sessions needed behind a load balancer.
    transports: ['websocket'],
    serveClient: false,
    maxHttpBufferSize: 256 * 1024,
    perMessageDeflate: false,
    pingInterval: 25_000,
    pingTimeout: 20_000,
    allowRequest: (req, callback) => callback(null, originAllowed(req, opts.allowedOrigins)),
    ...(opts.adapter ? { adapter: opts.adapter } : {}),
  });
}

/** Serves clients: session and rate limits at the handshake, then each event validated and dispatched. */
export function serveClients(io: ArenaIo, relay: RoomRelay, deps: ClientDeps): void {
  io.use((socket, next) => {
    let hash: string | null;
    let ip: string;
    try {
      hash = sessionHashFrom(socket.request, socket.handshake.auth);
      ip = clientIp(socket.request, deps.trustProxy);
    } catch {
      return next(new Error('bad handshake'));
    }
    if (!hash) return next(noSession());
    deps.limits.connection(ip).then(
      () => {
        socket.data.sessionHash = hash;
        socket.data.ip = ip;
        socket.data.watching = [];
        next();
      },
      (err) => next(new Error(err instanceof RateLimited ? err.message : 'connection refused')),
    );
  });

  const { commands, reads } = deps.battles;
  const handlers: { [E in ClientEventName]: Handler<E> } = {
    'session:state': (s) => reads.state(caller(s)),
    'session:history': (s) => reads.sessionHistory(caller(s)),
    'battle:start': (s, p) => commands.start(caller(s), p),
    'battle:send': (s, p) => commands.send(caller(s), p),
    'battle:stop': (s, p) => commands.stop(caller(s), p),
    'battle:regenerate': (s, p) => commands.regenerate(caller(s), p),
    'battle:vote': (s, p) => commands.vote(caller(s), p),
    'battle:next': (s, p) => commands.next(caller(s), p),
    'battle:resume': (s, p) => reads.resume(caller(s), p),
    'leaderboard:subscribe': async (s, p) => {
      const room = leaderboardRoom(p.excludeTies, p.category);
      // One board at a time: the one left stops being rebuilt here once nobody follows it.
      for (const joined of s.rooms) if (joined.startsWith('leaderboard:') && joined !== room) await s.leave(joined);
      await s.join(room);
      return { board: await deps.leaderboard(p.excludeTies, p.category) };
    },
    'models:list': async () => reads.modelList(),
    'status:subscribe': async (s) => {
      await s.join(STATUS_ROOM);
      return { status: deps.status() };
    },
    'watch:join': async (s, p) => {
      const result = await reads.watch(caller(s), p);
      if (!s.data.watching.includes(p.battleId)) s.data.watching.push(p.battleId);
      if (s.data.watching.length > MAX_BATTLE_ROOMS) s.data.watching.shift();
      const viewers = await relay.announceViewers(p.battleId);
      return { ...result, viewers };
    },
    'watch:vote': async (s, p) => {
      const result = await reads.crowdVote(caller(s), p);
      relay.announceCrowd(p.battleId, result.crowd);
      return result;
    },
  };

  io.on('connection', (socket) => {
    deps.metrics.connectedClients.inc();
    socket.on('disconnect', () => {
      deps.metrics.connectedClients.dec();
      for (const battleId of socket.data.watching) relay.announceViewers(battleId).catch(() => undefined);
    });
    for (const event of Object.keys(handlers) as ClientEventName[]) {
      socket.on(event, (payload: unknown, ack: unknown) => {
        deps.limits.flood(socket.id).then(
          () => dispatch(socket, event, payload, ack),
          (err) => {
            deps.metrics.errors.inc({ type: 'flood' });
            if (typeof ack === 'function') ack({ ok: false, error: { code: 'rate_limited', message: (err as Error).message } });
          },
        );
      });
    }
  });

  // engine.io queues without bound for a client that stops reading: drop such a client instead
  // (it reconnects and resumes from its last seq), so one slow spectator cannot grow memory.
  const sweeper = setInterval(() => {
    for (const socket of io.of('/').sockets.values()) {
      const { packets, bytes } = backlog(socket);
      if (packets > deps.maxBufferedPackets || bytes > MAX_BUFFERED_BYTES) {
        deps.metrics.errors.inc({ type: 'slow_client' });
        deps.logger.warn({ packets, bytes }, 'dropping a client that stopped reading');
        dropNow(socket);
      }
    }
  }, 1_000);
  sweeper.unref();
  io.engine.on('close', () => clearInterval(sweeper));

  async function dispatch(socket: ArenaSocket, event: ClientEventName, payload: unknown, ack: unknown) {
    // Every client event is a request: one without an ack function is dropped unread.
    if (typeof ack !== 'function') return;
    const reply = ack as (res: unknown) => void;
    // Only plain objects reach the schemas (a Buffer or an array would be read key by key).
    if (payload != null && !isPlainObject(payload)) {
      deps.metrics.errors.inc({ type: 'bad_request' });
      return reply({ ok: false, error: { code: 'bad_request', message: 'payload must be an object' } });
    }
    const parsed = ClientSchemas[event].safeParse(payload ?? {});
    if (!parsed.success) {
      deps.metrics.errors.inc({ type: 'bad_request' });
      return reply({ ok: false, error: badRequest(parsed.error.issues) });
    }
    try {
      await deps.limits.event(event, socket.data.sessionHash, socket.data.ip);
      const result = await (handlers[event] as Handler<typeof event>)(socket, parsed.data as never);
      reply({ ok: true, ...result });
    } catch (err) {
      if (err instanceof ArenaFailure) return reply({ ok: false, error: err.toJSON() });
      if (isRedisUnavailable(err)) {
        deps.metrics.errors.inc({ type: 'unavailable' });
        deps.logger.warn({ err: (err as Error).message, event }, 'refused: redis unreachable');
        return reply({ ok: false, error: sharedStateUnavailable(REDIS_RETRY_AFTER_SECONDS).toJSON() });
      }
      if (err instanceof RateLimited) {
        deps.metrics.errors.inc({ type: 'rate_limited' });
        return reply({ ok: false, error: { code: 'rate_limited', message: err.message } });
      }
      deps.metrics.errors.inc({ type: 'internal' });
      deps.logger.error({ err, event }, 'handler failed');
      reply({ ok: false, error: { code: 'internal', message: 'Something went wrong on the server.' } });
    }
  }

  function caller(socket: ArenaSocket): Caller {
    return {
      sessionHash: socket.data.sessionHash,
      join: async (battleId) => {
        const room = battleRoom(battleId);
        await joinBounded(socket, room, deps.logger);
        await deps.roomReady?.(room);
      },
    };
  }

}

/** A long-lived connection moves through many battles: it stays subscribed to the latest few only. */
const MAX_BATTLE_ROOMS = 16;

async function joinBounded(socket: ArenaSocket, room: string, logger: Logger): Promise<void> {
  await socket.join(room);
  const battleRooms = [...socket.rooms].filter((r) => r.startsWith('battle:'));
  if (battleRooms.length > MAX_BATTLE_ROOMS) leaveRoom(socket, battleRooms[0], logger);
}

/** Bytes a client may have waiting in this process (beyond what the kernel holds) before it is dropped. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * What waits for one client: packets in engine.io's queue, and bytes the WebSocket has handed to
 * its TCP socket that the kernel has not taken. Both are private internals; they are the only
 * backpressure signals engine.io and ws offer.
 */
type RawConn = { writeBuffer: unknown[]; transport?: { socket?: { terminate?: () => void; _socket?: { writableLength?: number } } } };

function backlog(socket: ArenaSocket): { packets: number; bytes: number } {
  const conn = socket.conn as unknown as RawConn;
  return { packets: conn.writeBuffer.length, bytes: conn.transport?.socket?._socket?.writableLength ?? 0 };
}

/**
 * A polite disconnect waits for the queue to drain, which a client that stopped reading never
 * lets happen: cut the WebSocket instead, freeing its buffers now (it resumes by seq on return).
 */
function dropNow(socket: ArenaSocket): void {
  const ws = (socket.conn as unknown as RawConn).transport?.socket;
  if (ws?.terminate) ws.terminate();
  else socket.disconnect(true);
}

/** Typed (`data.code`) so the page can tell a missing cookie, which never heals, from a passing fault. */
function noSession(): Error {
  return Object.assign(new Error('no session: load the page first, or pass auth.session'), { data: { code: 'no_session' } });
}

function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const forwarded = trustProxy ? String(req.headers['x-forwarded-for'] ?? '').split(',')[0].trim() : '';
  return forwarded || req.socket.remoteAddress || 'unknown';
}

/** The first problem, in a message of bounded size: zod quotes unknown keys, which attackers choose. */
function badRequest(issues: { path: PropertyKey[]; message: string }[]): ArenaError {
  const first = issues[0];
  const where = first?.path.length ? `${first.path.map(String).join('.')}: ` : '';
  const message = `${where}${first?.message ?? 'invalid payload'}`;
  return { code: 'bad_request', message: message.length > 200 ? `${message.slice(0, 199)}…` : message };
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * WebSockets bypass CORS, so the Origin is checked here: same host as the request, or listed.
 * Clients that send no Origin (servers, tests) are not browsers and cannot ride a user's cookie.
 */
function originAllowed(req: IncomingMessage, allowed: string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
