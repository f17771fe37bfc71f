import { setTimeout as delay } from 'node:timers/promises';

/**
 * vLLM sleep mode: level 1 offloads weights to CPU RAM (waking takes a tenth of a load), level 2
 * discards them (waking costs a full load). Both directions take time; the weights hold GPU
 * memory until an offload has finished and from the moment a wake-up starts, and the engine
 * counts as sleeping (`/is_sleeping`, chats refused) from the start of a sleep to the end of a
 * wake-up.
 */
export class SleepMode {
  private level: 0 | 1 | 2 = 0;
  private offloading: Promise<void> | undefined;
  private waking: Promise<void> | undefined;

  constructor(
    private readonly loadMs: number,
    private readonly onChange: (change: 'sleep' | 'wake') => void = () => {},
  ) {}

  get sleeping(): boolean {
    return this.level > 0;
  }

  /** Weights on the GPU: awake, still offloading, or already waking. */
  get holdsMemory(): boolean {
    return this.level === 0 || this.offloading !== undefined || this.waking !== undefined;
  }

  /** Resolves once the weights are off the GPU. */
  sleep(level: 1 | 2): Promise<void> {
    if (this.waking) return this.waking.then(() => this.sleep(level));
    const wasAwake = this.level === 0;
    this.level = Math.max(this.level, level) as 1 | 2;
    if (!wasAwake) return this.offloading ?? Promise.resolve();
    this.offloading = delay(this.level === 1 ? this.loadMs / 10 : 0).then(() => {
      this.offloading = undefined;
      this.onChange('sleep');
    });
    return this.offloading;
  }

  /** Resolves once awake; concurrent callers share one wake-up. */
  wakeUp(): Promise<void> {
    if (this.offloading) return this.offloading.then(() => this.wakeUp());
    if (this.level === 0) return Promise.resolve();
    this.waking ??= delay(this.level === 1 ? this.loadMs / 10 : this.loadMs).then(() => {
      this.level = 0;
      this.waking = undefined;
      this.onChange('wake');
    });
    return this.waking;
  }
}
