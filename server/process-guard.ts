import type { Logger } from 'pino';

/**
 * The last line of defence: a promise rejection nobody handled or an exception nobody caught is
 * logged with its stack and counted (arena_process_faults_total in /metrics), so a fault that
 * slipped past the code is seen instead of silently killing or silently corrupting an instance.
 *
 * unhandledRejection: logged and counted, the process continues. A rejected promise has already
 * unwound its own call chain; nothing half-ran, and exiting would drop every healthy battle and
 * connection of the instance for one failed operation.
 * uncaughtException: logged and counted, then the instance shuts down (exit code 1). The throw
 * left some synchronous code half-done, so in-memory state may be inconsistent; the supervisor
 * (Docker, systemd) starts a clean process and clients reconnect to it.
 */
export const FAULT_KINDS = ['unhandledRejection', 'uncaughtException'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Process-wide: faults belong to the process, whichever Arena instance's registry reports them. */
const counts: Record<FaultKind, number> = { unhandledRejection: 0, uncaughtException: 0 };

export function processFaultCounts(): Readonly<Record<FaultKind, number>> {
  return { ...counts };
}

export interface ProcessGuardOptions {
  logger: Logger;
  /** Called once per uncaught exception after it is logged; must end the process (exit code 1). */
  onFatal(err: unknown): void;
}

/** Installs the handlers; returns a function that removes them. */
export function installProcessGuard({ logger, onFatal }: ProcessGuardOptions): () => void {
  const onRejection = (reason: unknown) => {
    counts.unhandledRejection++;
    logger.error({ err: asError(reason), fault: 'unhandledRejection' }, 'unhandled promise rejection (continuing)');
  };
  const onException = (err: Error) => {
    counts.uncaughtException++;
    logger.fatal({ err, fault: 'uncaughtException' }, 'uncaught exception: shutting down, state may be inconsistent');
    onFatal(err);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}

/** pino logs `err` with its stack only when it is an Error; a rejection can carry anything. */
function asError(reason: unknown): Error {
  if (reason instanceof Error) return reason;
  const err = new Error(`non-error rejection: ${safeString(reason)}`);
  return err;
}

function safeString(value: unknown): string {
  try {
    return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
