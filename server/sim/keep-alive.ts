/** Ollama keep_alive: a Go duration ('5m', '1h30m', '250ms'), a number of seconds, negative = forever. */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(-?)((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/;

export const DEFAULT_KEEP_ALIVE_MS = 5 * 60_000;

/** Milliseconds to stay loaded after a request (Infinity = forever), or undefined when unparseable. */
export function parseKeepAlive(value: unknown): number | undefined {
  if (value === undefined || value === null) return DEFAULT_KEEP_ALIVE_MS;
  if (typeof value === 'number') return value < 0 ? Infinity : value * 1000;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return parseKeepAlive(Number(trimmed));
  const match = DURATION.exec(trimmed);
  if (!match) return undefined;
  if (match[1] === '-') return Infinity;
  let total = 0;
  for (const [, amount, unit] of match[2]!.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}
