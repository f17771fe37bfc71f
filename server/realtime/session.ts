import type { IncomingMessage } from 'node:http';
import { SESSION_COOKIE } from '../../src/lib/shared/protocol.js';
import { hashSession, isSessionToken } from '../arena/ids.js';

/** The session token from the httpOnly cookie (browsers) or the handshake auth (other clients). */
export function sessionTokenFrom(req: IncomingMessage, auth: unknown): string | null {
  const fromCookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  if (isSessionToken(fromCookie)) return fromCookie;
  const fromAuth = (auth as { session?: unknown } | undefined)?.session;
  return isSessionToken(fromAuth) ? fromAuth : null;
}

export function sessionHashFrom(req: IncomingMessage, auth: unknown): string | null {
  const token = sessionTokenFrom(req, auth);
  return token ? hashSession(token) : null;
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeOrUndefined(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** A cookie value that is not valid percent-encoding is no session, not an exception. */
function decodeOrUndefined(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000${secure ? '; Secure' : ''}`;
}

/** What the server keeps on each client socket. */
export interface SocketData {
  sessionHash: string;
  ip: string;
  /** Battles this socket watches as a spectator. */
  watching: string[];
}
