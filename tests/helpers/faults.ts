import type { Arena } from '../../server/app.js';
import { silentLogger } from '../../server/infra/log.js';
import { installProcessGuard, processFaultCounts } from '../../server/process-guard.js';

/**
 * Installs Arena's process guard in this process (in-process arenas run here) and reads its
 * counter from an arena's own metrics registry, as /metrics reports it. The guard's counts are
 * process-wide and never reset, so a test compares against the count when it started.
 * Uncaught exceptions are recorded instead of ending the test runner.
 */
export interface FaultRecorder {
  /** Unhandled rejections + uncaught exceptions counted since `recordProcessFaults()`, read through `arena`'s registry. */
  count(arena: Arena): Promise<number>;
  /** Messages of faults seen since the start (for a readable failure). */
  readonly messages: string[];
  stop(): void;
}

export async function faultsTotal(arena: Arena): Promise<number> {
  const metric = await arena.metrics.registry.getSingleMetric('arena_process_faults_total')!.get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}

export function recordProcessFaults(): FaultRecorder {
  const messages: string[] = [];
  const note = (reason: unknown) => messages.push(reason instanceof Error ? `${reason.name}: ${reason.message}\n${reason.stack ?? ''}` : String(reason));
  const uninstall = installProcessGuard({ logger: silentLogger, onFatal: note });
  process.on('unhandledRejection', note);
  const counts = processFaultCounts();
  const baseline = counts.unhandledRejection + counts.uncaughtException;
  return {
    messages,
    async count(arena) {
      return (await faultsTotal(arena)) - baseline;
    },
    stop() {
      uninstall();
      process.off('unhandledRejection', note);
    },
  };
}
