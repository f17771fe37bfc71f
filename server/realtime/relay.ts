import { randomUUID } from 'node:crypto';
import type { BattleView, SeqEvent } from '../../src/lib/shared/protocol.js';
import { framesRideLogAppends, onRemoteFrames } from '../cluster/machine-cluster.js';
import { askOtherInstances } from './ask-instances.js';
import type { ArenaIo } from './socket.js';
import { joinRoom } from './rooms.js';
import type { Logger } from 'pino';

export const battleRoom = (battleId: string) => `battle:${battleId}`;

/**
 * What crosses instances on the hot path: battle frames and viewer counts. With one instance
 * both are plain room operations; with several they avoid two costs of the cluster adapter.
 */
export function createRoomRelay(io: ArenaIo, shared: boolean, logger: Logger) {
  // Every local socket is in this room, so "the room except it" means "the room on other instances".
  const instanceRoom = `instance:${randomUUID()}`;
  if (shared) io.on('connection', (socket) => joinRoom(socket, instanceRoom, logger));
  io.on('arena:viewers', (battleId, ack) => ack(localViewers(battleId)));
  // Workers without Redis: the primary forwards each log append to the other workers, frames and all.
  const viaAppends = shared && framesRideLogAppends();
  if (viaAppends) onRemoteFrames((battleId, events) => io.local.to(battleRoom(battleId)).emit('battle:events', { battleId, events }));

  function localViewers(battleId: string): number {
    const nsp = io.of('/');
    let count = 0;
    for (const id of nsp.adapter.rooms.get(battleRoom(battleId)) ?? []) {
      if (nsp.sockets.get(id)?.data.watching?.includes(battleId)) count++;
    }
    return count;
  }

  async function remoteViewers(battleId: string): Promise<number> {
    // The adapter's request timeout bounds the wait; an instance that does not answer counts 0.
    const counts = await askOtherInstances<number>(io, 'arena:viewers', battleId);
    return counts.reduce((sum, n) => sum + (Number.isFinite(n) ? n : 0), 0);
  }

  return {
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

    /** A frame for the battle's room on the other instances only (local sockets already have it). */
    sendRemote(battleId: string, events: SeqEvent[]): void {
      if (shared) io.to(battleRoom(battleId)).except(instanceRoom).emit('battle:events', { battleId, events });
    },

    /**
     * Sends this instance's sockets in each battle room the battle's stored events (`read` gives
     * null for battles this instance runs itself: its sockets got every frame directly).
     */
    async catchUp(read: (battleId: string) => Promise<SeqEvent[] | null>): Promise<void> {
      const rooms = [...io.of('/').adapter.rooms.keys()].filter((room) => room.startsWith('battle:'));
      for (const room of rooms) {
        const battleId = room.slice('battle:'.length);
        const events = await read(battleId).catch(() => null);
        if (events?.length) io.local.to(room).emit('battle:events', { battleId, events });
      }
    },

    /** Replaces the view of this instance's sockets in the battle's room (see BattleServiceDeps.resync). */
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
     */
    async announceViewers(battleId: string): Promise<number> {
      const count = localViewers(battleId) + (shared ? await remoteViewers(battleId) : 0);
      io.to(battleRoom(battleId)).emit('battle:viewers', { battleId, count });
      return count;
    },
  };
}

export type RoomRelay = ReturnType<typeof createRoomRelay>;
