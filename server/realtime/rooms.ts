import type { Logger } from 'pino';

interface RoomMember {
  id: string;
  join(room: string): Promise<void> | void;
  leave(room: string): Promise<void> | void;
}

/**
 * Room changes that nobody waits for. The socket is in (or out of) the room locally at once; with
 * the Redis adapter the cross-instance subscription follows and can fail while Redis is down:
 * that is logged, never an unhandled rejection.
 */
export function joinRoom(socket: RoomMember, room: string, logger: Logger): void {
  settle(socket.join(room), logger, 'join', socket.id, room);
}

export function leaveRoom(socket: RoomMember, room: string, logger: Logger): void {
  settle(socket.leave(room), logger, 'leave', socket.id, room);
}

function settle(result: Promise<void> | void, logger: Logger, op: string, socketId: string, room: string): void {
  result?.catch((err: unknown) => logger.warn({ err, socketId, room }, `room ${op} failed (Redis adapter)`));
}
