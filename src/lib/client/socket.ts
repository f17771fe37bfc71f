/**
 * The browser's one Socket.IO connection. The session rides on the httpOnly `arena_session`
 * cookie the server set with the page, so there is nothing to authenticate here.
 */
import { io, type Socket } from 'socket.io-client';
import type {
  Ack,
  AckResults,
  ClientEventName,
  ClientPayload,
  ClientToServerEvents,
  ServerToClientEvents,
} from '$shared/protocol';

export type ArenaSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const ACK_TIMEOUT_MS = 15_000;

let socket: ArenaSocket | undefined;

/** Created on first use so server-side rendering never opens a connection. */
export function getSocket(): ArenaSocket {
  socket ??= io({ transports: ['websocket'], withCredentials: true });
  return socket;
}

/**
 * Emits a client event and resolves with its ack. Never throws: a timeout or a dropped connection
 * resolves to an `unavailable` error ack, so callers handle every failure the same way.
 */
export async function call<E extends ClientEventName>(
  event: E,
  payload: ClientPayload<E>,
  timeoutMs = ACK_TIMEOUT_MS,
): Promise<Ack<AckResults[E]>> {
  const timed = getSocket().timeout(timeoutMs);
  // socket.io's typings cannot follow a generic event name through its mapped types.
  const emit = timed.emitWithAck.bind(timed) as (e: E, p: ClientPayload<E>) => Promise<Ack<AckResults[E]>>;
  try {
    return await emit(event, payload);
  } catch {
    return {
      ok: false,
      error: { code: 'unavailable', message: 'The server did not answer in time. Check your connection and try again.' },
    };
  }
}
