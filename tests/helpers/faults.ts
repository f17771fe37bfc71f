/**
 * Records unhandled rejections and uncaught exceptions raised in this process (in-process arenas
 * run here), so a fault test can assert that none happened. Vitest would report them too, but
 * only after the test: this lets the test name the action that caused one.
 */
export interface FaultRecorder {
  readonly faults: { kind: 'unhandledRejection' | 'uncaughtException'; message: string }[];
  stop(): void;
}

export function recordProcessFaults(): FaultRecorder {
  const faults: FaultRecorder['faults'] = [];
  const onRejection = (reason: unknown) => faults.push({ kind: 'unhandledRejection', message: describe(reason) });
  const onException = (err: unknown) => faults.push({ kind: 'uncaughtException', message: describe(err) });
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    faults,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

function describe(value: unknown): string {
  return value instanceof Error ? `${value.name}: ${value.message}\n${value.stack ?? ''}` : String(value);
}
