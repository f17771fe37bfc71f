/**
 * The browser's one Socket.IO connection. The session rides on the httpOnly `arena_session`
 * cookie the server set with the page, so there is nothing to authenticate here.
 */
import { io, type Socket, type SocketReservedEvents } from 'socket.io-client';
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

/** Server events and socket.io's own connection events, each with its typed handler. */
export type SocketHandlers = Partial<ServerToClientEvents & SocketReservedEvents>;

/** Registers the handlers; the returned function removes exactly these, so pages can clean up on unmount. */
export function listen(socket: ArenaSocket, handlers: SocketHandlers): () => void {
  // socket.io's typings cannot follow an event name taken from a map to its handler's type.
  const untyped = socket as unknown as Record<'on' | 'off', (event: string, handler: unknown) => void>;
  const entries = Object.entries(handlers);
  for (const [event, handler] of entries) untyped.on(event, handler);
  return () => {
    for (const [event, handler] of entries) untyped.off(event, handler);
  };
}

export interface ConnectionHandlers {
  /** Every (re)connect, and at once when already connected. The server's socket is new each time
   *  and in no room, so this is where a page joins or catches up. */
  connected(): void;
  disconnected(): void;
  /** The server refused the connection. Temporary failures retry by themselves and are not reported. */
  refused(message: string): void;
}

/** listen() on the shared socket, plus the connection-state wiring every live page needs. */
export function follow(handlers: SocketHandlers, connection: ConnectionHandlers): () => void {
  const socket = getSocket();
  const off = listen(socket, {
    ...handlers,
    connect: () => connection.connected(),
    disconnect: () => connection.disconnected(),
    connect_error: (err) => {
      if (isNoSession(err)) connection.refused(NO_SESSION_MESSAGE);
      else if (!socket.active) connection.refused(`Cannot connect to the arena: ${err.message}`);
    },
  });
  if (socket.connected) connection.connected();
  return off;
}

/** Shown for as long as the page lives: the browser keeps refusing the cookie until the cause is fixed. */
export const NO_SESSION_MESSAGE =
  'Arena cannot connect: this browser did not send its session cookie, so nothing can be sent. ' +
  'Usual causes: cookies are blocked for this site, or the page is served over plain HTTP while the ' +
  'proxy in front claims HTTPS (X-Forwarded-Proto: https). Fix: allow cookies for this site, or open ' +
  'Arena at the address its proxy serves (https:// behind a TLS proxy), then reload.';

function isNoSession(err: Error): boolean {
  return (err as Error & { data?: { code?: unknown } }).data?.code === 'no_session';
}
