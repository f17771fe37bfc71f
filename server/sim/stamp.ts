/**
 * Token timestamps for benchmarks (`stampTokens: true`, CLI `--stamp`): every content token is
 * emitted as `⟦<epochMicros>⟧<token>`, so a client can recover when the backend produced each
 * token even after a relay merged several tokens into one delta. The clock is
 * `performance.timeOrigin + performance.now()`, which processes on one machine share.
 */

/** Microseconds since the epoch, on the clock every process of this machine shares. */
export function epochMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** The token as a stamped simulator emits it. */
export function stampToken(text: string, at = epochMicros()): string {
  return `⟦${at}⟧${text}`;
}

const STAMP = /⟦(\d+)⟧/g;

/** Every stamp in `text` (epoch microseconds), in order. */
export function readStamps(text: string): number[] {
  const stamps: number[] = [];
  for (const match of text.matchAll(STAMP)) stamps.push(Number(match[1]));
  return stamps;
}

/** The text without its stamps. */
export function stripStamps(text: string): string {
  return text.replace(STAMP, '');
}
