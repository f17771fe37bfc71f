import type { ArenaError, ErrorCode } from '../../src/lib/shared/protocol.js';

/** A refusal the client should see as a typed error ack. Anything else is an internal error. */
export class ArenaFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ArenaFailure';
  }

  toJSON(): ArenaError {
    return { code: this.code, message: this.message, ...(this.retryAfterSeconds ? { retryAfterSeconds: this.retryAfterSeconds } : {}) };
  }
}

/** The typed refusal for an action that needs Redis while it is unreachable: nothing was stored. */
export function sharedStateUnavailable(retryAfterSeconds: number): ArenaFailure {
  return new ArenaFailure(
    'unavailable',
    `The arena's shared storage is unreachable right now; nothing was saved. Try again in ${retryAfterSeconds} s.`,
    retryAfterSeconds,
  );
}

export const fail = (code: ErrorCode, message: string): never => {
  throw new ArenaFailure(code, message);
};
