/**
 * The anonymous session, defined once for both ways in: the page (src/hooks.server.ts sets the
 * cookie) and the API and Socket.IO handshake (server/http/routes.ts, server/realtime/socket.ts).
 * A session token is a 256-bit bearer secret in an httpOnly cookie; only its hash is ever stored
 * or logged. Server-only ($lib/server): it uses node:crypto and never reaches the browser.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SESSION_COOKIE } from '../shared/protocol.js';

export { SESSION_COOKIE };

const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const ONE_YEAR_SECONDS = 60 * 60 * 24 * 365;

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isSessionToken(value: unknown): value is string {
  return typeof value === 'string' && SESSION_TOKEN.test(value);
}

function hashSession(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

// ---------------------------------------------------------------- the cookie

/** The cookie's attributes, for SvelteKit's `cookies.set`. `Secure` follows the real scheme. */
export function sessionCookieOptions(secure: boolean) {
  return { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: ONE_YEAR_SECONDS } as const;
}

/** The same cookie as a Set-Cookie header value, for the plain Node routes. */
export function sessionCookie(token: string, secure: boolean): string {
  const o = sessionCookieOptions(secure);
  return `${SESSION_COOKIE}=${token}; Path=${o.path}; HttpOnly; SameSite=Lax; Max-Age=${o.maxAge}${secure ? '; Secure' : ''}`;
}

/** The session token from the httpOnly cookie (browsers) or the handshake auth (other clients). */
function sessionTokenFrom(req: IncomingMessage, auth: unknown): string | null {
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

// ---------------------------------------------------------------- the scheme

/**
 * Whether the browser reached Arena over HTTPS: the connection itself is TLS, or the proxy in
 * front says so in X-Forwarded-Proto (its first value, set by the proxy nearest the browser).
 * The one rule for every cookie Arena sets (the page's, POST /api/session's).
 *
 * The header is believed without `trustProxy`: its only effect is to add `Secure`, which a forger
 * can only use to break their own session, while ignoring it behind a TLS proxy would drop
 * `Secure` from every real visitor's cookie.
 */
export function isHttpsRequest(req: Pick<IncomingMessage, 'headers' | 'socket'>): boolean {
  if ((req.socket as { encrypted?: boolean } | undefined)?.encrypted) return true;
  return forwardedProtoIsHttps(req.headers['x-forwarded-proto']);
}

export function forwardedProtoIsHttps(header: string | string[] | null | undefined): boolean {
  const value = Array.isArray(header) ? header[0] : header;
  return (value ?? '').split(',')[0].trim().toLowerCase() === 'https';
}
