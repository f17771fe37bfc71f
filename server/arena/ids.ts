import { createHash, randomBytes } from 'node:crypto';

/** Unguessable, URL-safe ids; nothing in them derives from a model. */
export function newId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}

const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A session token is a 256-bit bearer secret; only its hash is ever stored or logged. */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isSessionToken(value: unknown): value is string {
  return typeof value === 'string' && SESSION_TOKEN.test(value);
}

export function hashSession(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export function promptKey(prompt: string): string {
  return createHash('sha256').update(prompt.trim()).digest('base64url').slice(0, 22);
}
