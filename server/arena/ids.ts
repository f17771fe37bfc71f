import { createHash, randomBytes } from 'node:crypto';

/** Unguessable, URL-safe ids; nothing in them derives from a model. */
export function newId(bytes = 12): string {
  return randomBytes(bytes).toString('base64url');
}

export function promptKey(prompt: string): string {
  return createHash('sha256').update(prompt.trim()).digest('base64url').slice(0, 22);
}
