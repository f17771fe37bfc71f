import type { Logger } from 'pino';

/**
 * Starts work that nobody awaits (timers, fire-and-forget persistence, stream runners): a failure
 * is logged with what was running instead of becoming an unhandled rejection. The lint rule
 * no-floating-promises (eslint.config.js) sends every such call here or to an explicit catch.
 */
export function runInBackground(work: Promise<unknown>, logger: Logger, what: string, context: Record<string, unknown> = {}): void {
  work.catch((err: unknown) => logger.error({ err, ...context }, `${what} failed`));
}
