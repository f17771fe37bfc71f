import { randomUUID } from 'node:crypto';
import type { Server } from 'socket.io';
import type { FrameSink } from '../cluster/types.js';
import type { Logger } from 'pino';
import type { Ack, BattleView, ClientToServerEvents, CrowdTally, SeqEvent, ServerToClientEvents } from '../../src/lib/shared/protocol.js';
import { joinRoom } from './rooms.js';
import { withDeadline } from '../infra/deadline.js';

/**
 * Everything that crosses instances, in one place: battle frames (room broadcasts through the
 * adapter), viewer counts, owner actions forwarded to the instance that holds a battle, and vote
 * notices. With one instance there is nobody to ask: frames are plain room operations and asks
 * answer at once. With several (Redis adapter, or the cluster adapter between workers) asks go
 * out with `serverSideEmitWithAck` and always settle: answered, timed out, or unreachable.
 */

export const battleRoom = (battleId: string) => `battle:${battleId}`;

/** An owner action sent to the instance that runs the battle. */
export interface OwnerAction {
  action: 'send' | 'stop' | 'regenerate' | 'vote';
  battleId: string;
  sessionHash: string;
  payload: Record<string, unknown>;
}

/** Every event between Arena instances (server-side emits through the adapter). */
export interface InterServerEvents {
  /** Run this owner action if you hold the battle: its ack, or null from everyone else. */
  'arena:forward': (action: OwnerAction, ack: (res: Ack | null) => void) => void;
  /** A vote was stored: refresh your boards. */
  'arena:votes': () => void;
  /** How many spectators of this battle are connected to you. */
  'arena:viewers': (battleId: string, ack: (count: number) => void) => void;
}

/** What the server keeps on each client socket. */
export interface SocketData {
  sessionHash: string;
  ip: string;
  /** Battles this socket watches as a spectator. */
  watching: string[];
}

export type ArenaIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What an ask of the other instances brought back: every answer, or why some are missing. */
export type Answers<T> = { ok: true; answers: T[] } | { ok: false; reason: 'timeout' | 'unreachable'; answers: T[] };

/** An ask settles after this long whatever the adapter does (its own request timeout is 5 s). */
const ASK_TIMEOUT_MS = 6_000;

/** What this instance does when the others ask. */
export interface InstanceHandlers {
  ownerAction(action: OwnerAction): Promise<Ack | null>;
  votesChanged(): void;
}

export interface RelayOptions {
  /** True when other instances may exist (an adapter other than the in-memory one). */
  shared: boolean;
  logger: Logger;
  /** Resolves once the adapter's publisher is connected (or has given up waiting). */
  publisherReady?(): Promise<void>;
  /**
   * Workers without Redis: frames reach the other workers with the log append (MachineCluster),
   * so the relay sends to local sockets only and delivers the others' frames here.
   */
  remoteFrames?(sink: FrameSink, wants: (battleId: string) => boolean): void;
}

class Unreachable extends Error {}

/**
 * The hot path avoids two costs of the cluster adapter (see sendFrame and announceViewers); it
 * implements the port battles publish through (`server/arena/port.ts`).
 */
export function createRoomRelay(io: ArenaIo, { shared, logger, publisherReady, remoteFrames }: RelayOptions) {
  // Every local socket is in this room, so "the room except it" means "the room on other instances".
  const instanceRoom = `instance:${randomUUID()}`;
  if (shared) {
    io.on('connection', (socket) => joinRoom(socket, instanceRoom, logger));
    settleAdapterFailures(io, logger);
  }
  io.on('arena:viewers', (battleId, ack) => ack(localViewers(battleId)));
  // Workers without Redis: the primary forwards each log append to the other workers, frames and all.
  const viaAppends = shared && remoteFrames !== undefined;
  if (viaAppends)
    remoteFrames(
      (battleId, events) => io.local.to(battleRoom(battleId)).emit('battle:events', { battleId, events }),
      (battleId) => (io.of('/').adapter.rooms.get(battleRoom(battleId))?.size ?? 0) > 0,
    );

  const viewerAnnouncements = new Map<string, Promise<number>>();

  function localViewers(battleId: string): number {
    const nsp = io.of('/');
    let count = 0;
    for (const id of nsp.adapter.rooms.get(battleRoom(battleId)) ?? []) {
      if (nsp.sockets.get(id)?.data.watching?.includes(battleId)) count++;
    }
    return count;
  }

  /** Asks every other instance; never rejects, settles within ASK_TIMEOUT_MS. */
  async function ask<T>(send: () => Promise<T[]>): Promise<Answers<T>> {
    if (!shared) return { ok: true, answers: [] };
    const asked = send().then(
      (answers): Answers<T> => ({ ok: true, answers }),
      (err: Error & { responses?: T[] }): Answers<T> => ({ ok: false, reason: err instanceof Unreachable ? 'unreachable' : 'timeout', answers: err.responses ?? [] }),
    );
    return withDeadline(asked, ASK_TIMEOUT_MS, { ok: false, reason: 'timeout', answers: [] });
  }

  return {
    /** Answers the other instances' asks and notices with `handlers`. */
    answer(handlers: InstanceHandlers): void {
      io.on('arena:forward', (action, ack) => {
        handlers.ownerAction(action).then(ack, () => ack(null));
      });
      io.on('arena:votes', () => handlers.votesChanged());
    },

    /**
     * The cluster adapter awaits its Redis publish before delivering to local sockets, which would
     * hold every frame back one round trip. Local sockets get it at once; the other instances
     * through the adapter, with this instance's sockets excluded so nobody gets it twice. Workers
     * without Redis send nothing more: their frames went to the other workers with the log append.
     */
    sendFrame(battleId: string, events: SeqEvent[]): void {
      const frame = { battleId, events };
      const room = battleRoom(battleId);
      if (!shared) return void io.to(room).emit('battle:events', frame);
      io.local.to(room).emit('battle:events', frame);
      if (!viaAppends) io.to(room).except(instanceRoom).emit('battle:events', frame);
    },

    /**
     * A frame for the battle's room on the other instances only (local sockets already have it):
     * events stored after an outage, when the publisher (no offline queue) may reconnect a moment later.
     */
    sendRemote(battleId: string, events: SeqEvent[]): void {
      if (!shared) return;
      (publisherReady?.() ?? Promise.resolve())
        .then(() => io.to(battleRoom(battleId)).except(instanceRoom).emit('battle:events', { battleId, events }))
        .catch((err: Error) => logger.warn({ battleId, err: err.message }, 'late frame not sent to other instances'));
    },

    /**
     * Sends this instance's sockets in each battle room the battle's stored events (`read` gives
     * null for battles this instance runs itself: its sockets got every frame directly); `only`:
     * that one room.
     */
    async catchUp(read: (battleId: string) => Promise<SeqEvent[] | null>, only?: string): Promise<void> {
      const rooms = [...io.of('/').adapter.rooms.keys()].filter((room) => room.startsWith('battle:') && (only === undefined || room === only));
      for (const room of rooms) {
        const battleId = room.slice('battle:'.length);
        const events = await read(battleId).catch(() => null);
        if (events?.length) io.local.to(room).emit('battle:events', { battleId, events });
      }
    },

    /** Replaces the view of this instance's sockets in the battle's room (see BattlePort.resetLocal). */
    resetLocal(battleId: string, views: { sessionHash: string; owner: BattleView; spectator: BattleView }): void {
      const nsp = io.of('/');
      for (const id of nsp.adapter.rooms.get(battleRoom(battleId)) ?? []) {
        const socket = nsp.sockets.get(id);
        const battle = socket?.data.sessionHash === views.sessionHash ? views.owner : views.spectator;
        socket?.emit('battle:reset', { battleId, battle });
      }
    },

    /**
     * Spectators of a battle on every instance, told to its room. Each instance answers with a
     * number; fetchSockets() would ship every member's handshake across Redis on each join.
     * An instance that does not answer counts 0.
     */
    announceViewers(battleId: string): Promise<number> {
      // Spectators arriving together (a shared link opened by many) share one count and one broadcast.
      let announcement = viewerAnnouncements.get(battleId);
      if (!announcement) {
        announcement = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
          // Who joins from here on starts the next announcement (and may be counted in this one too).
          viewerAnnouncements.delete(battleId);
          const remote = await ask(() => io.serverSideEmitWithAck('arena:viewers', battleId));
          const count = remote.answers.reduce((sum, n) => sum + (Number.isFinite(n) ? n : 0), localViewers(battleId));
          io.to(battleRoom(battleId)).emit('battle:viewers', { battleId, count });
          return count;
        });
        viewerAnnouncements.set(battleId, announcement);
      }
      return announcement;
    },

    /** The crowd's tally, told to the battle's room on every instance. */
    announceCrowd(battleId: string, crowd: CrowdTally): void {
      io.to(battleRoom(battleId)).emit('battle:crowd', { battleId, crowd });
    },

    /** Asks the instance that holds the battle to run an owner action (BattlePort.forward). */
    async forward(action: OwnerAction): Promise<Ack | 'no_owner' | 'unreachable'> {
      const asked = await ask(() => io.serverSideEmitWithAck('arena:forward', action));
      const ack = asked.answers.find((a): a is Ack => Boolean(a));
      if (ack) return ack;
      return !asked.ok && asked.reason === 'unreachable' ? 'unreachable' : 'no_owner';
    },

    /** Tells the other instances a vote was stored (BattlePort.announceVote). */
    announceVote(): void {
      if (shared) io.serverSideEmit('arena:votes');
    },
  };
}

export type RoomRelay = ReturnType<typeof createRoomRelay>;

/**
 * socket.io's `serverSideEmit` drops what the adapter returns. While Redis is down the Redis
 * adapter fails before publishing (it first counts servers with `PUBSUB SHARDNUMSUB` on the
 * publisher, which has no offline queue): that rejection would go unhandled and the ack would
 * never be called. Here the ack hears of it (`Unreachable`), so `serverSideEmitWithAck` rejects
 * at once; a notice without an ack is logged.
 */
function settleAdapterFailures(io: ArenaIo, logger: Logger): void {
  const adapter = io.of('/').adapter;
  const emit = adapter.serverSideEmit.bind(adapter);
  adapter.serverSideEmit = (packet: unknown[]) => {
    const last = packet.at(-1);
    const ack = typeof last === 'function' ? (last as (err: Error, responses: unknown[]) => void) : null;
    const failed = (err: unknown) => {
      if (ack) ack(new Unreachable((err as Error)?.message ?? String(err)), []);
      else logger.warn({ err: (err as Error)?.message, event: packet[0] }, 'notice to other instances not sent');
    };
    try {
      const sent: unknown = emit(packet);
      if (sent instanceof Promise) sent.catch(failed);
    } catch (err) {
      failed(err);
    }
  };
}
