import type { ArenaError, ErrorCode } from '../../src/lib/shared/protocol.js';

/** A refusal the client should see as a typed error ack. Anything else is an internal error. */
export class ArenaFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ArenaFailure';
  }

  toJSON(): ArenaError {
    return { code: this.code, message: this.message };
  }
}

export const fail = (code: ErrorCode, message: string): never => {
  throw new ArenaFailure(code, message);
};
