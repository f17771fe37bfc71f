import { setTimeout as delay } from 'node:timers/promises';

/**
 * vLLM sleep mode: level 1 offloads weights to CPU RAM (waking takes a tenth of a load), level 2
 * discards them (waking costs a full load).
 */
export class SleepMode {
  private level: 0 | 1 | 2 = 0;
  private waking: Promise<void> | undefined;

  constructor(private readonly loadMs: number) {}

  get sleeping(): boolean {
    return this.level > 0;
  }

  sleep(level: 1 | 2): void {
    this.level = Math.max(this.level, level) as 1 | 2;
  }

  /** Resolves once awake; concurrent callers share one wake-up. */
  wakeUp(): Promise<void> {
    if (this.level === 0) return Promise.resolve();
    this.waking ??= delay(this.level === 1 ? this.loadMs / 10 : this.loadMs).then(() => {
      this.level = 0;
      this.waking = undefined;
    });
    return this.waking;
  }
}
