import { pino, type Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they sit in the logged object. */
const REDACT = ['apiKey', '*.apiKey', 'authorization', '*.authorization', 'token', '*.token', 'headers.cookie', 'req.headers.cookie'];

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { svc: 'arena' }, redact: { paths: REDACT, censor: '[redacted]' } });
}

/** A silent logger for library code and tests that do not care about logs. */
export const silentLogger: Logger = pino({ level: 'silent' });

export type { Logger };
