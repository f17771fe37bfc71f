import type { BattleEvent, EndStatus, Side } from '../../src/lib/shared/protocol.js';

/** The abort reason of the user's own Stop: every other abort of a run is an interruption. */
export const USER_STOP = 'user-stop';

/** The part of a live battle a run touches. */
export interface RunHost {
  runs: Record<Side, number>;
  controllers: Partial<Record<Side, AbortController>>;
  log: { push(event: BattleEvent, tokens?: number): void };
}

/**
 * One run of one side's answer. A stop, regenerate or hand-off bumps the side's run number: from
 * then on this run's events are dropped, so a superseded stream can never write into the new one.
 */
export class SideRun {
  readonly controller = new AbortController();
  private readonly run: number;
  private streaming: boolean;
  ended = false;

  constructor(
    private readonly host: RunHost,
    readonly side: Side,
    readonly turn: number,
    private readonly onTokens: (count: number) => void,
    resumed = false,
  ) {
    this.run = host.runs[side];
    host.controllers[side] = this.controller;
    this.streaming = resumed;
    if (resumed) this.push({ t: 'status', side, turn, status: 'resumed' });
  }

  /** How an aborted run ended: the user's Stop is a normal answer, anything else cut it. */
  get abortStatus(): 'stopped' | 'interrupted' {
    return this.controller.signal.reason === USER_STOP ? 'stopped' : 'interrupted';
  }

  get stale(): boolean {
    return this.host.runs[this.side] !== this.run;
  }

  push(event: BattleEvent, tokens?: number): void {
    if (!this.stale) this.host.log.push(event, tokens);
  }

  /** `tokens`: how many upstream chunks `value` holds (a provider merges those of one network read). */
  text(kind: 'text' | 'reasoning', value: string, tokens = 1): void {
    if (!this.streaming) {
      this.streaming = true;
      this.push({ t: 'status', side: this.side, turn: this.turn, status: 'streaming' });
    }
    this.onTokens(tokens);
    // Literal keys, not `[kind]: value`: a computed key gave each delta a slow (dictionary) shape.
    const { side, turn } = this;
    this.push(kind === 'text' ? { t: 'delta', side, turn, text: value } : { t: 'delta', side, turn, reasoning: value }, tokens);
  }

  end(status: EndStatus, error?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.push({ t: 'end', side: this.side, turn: this.turn, status, ...(error ? { error } : {}) });
  }
}
