import type { BattleEvent, Side } from '../../src/lib/shared/protocol.js';

/**
 * Blind reasoning: before the vote a battle shows one neutral "reasoning" state for both sides
 * while either side's model reasons, never which one. The reasoning text itself is kept on the
 * record and revealed with the names (docs/security.md, "Blindness and vote integrity").
 * Tracks, for one turn, which side's run is reasoning now; emits `thinking` when the battle
 * goes from no side reasoning to one, and back.
 */
export class ThinkingIndicator {
  /** The run (any object identifying it) that is reasoning on each side. */
  private readonly reasoning = new Map<Side, object>();

  constructor(
    readonly turn: number,
    private readonly push: (event: BattleEvent) => void,
  ) {}

  started(side: Side, run: object): void {
    if (this.reasoning.get(side) === run) return;
    const wasIdle = this.reasoning.size === 0;
    this.reasoning.set(side, run);
    if (wasIdle) this.push({ t: 'thinking', turn: this.turn, active: true });
  }

  /** The run wrote its first text, or ended; a superseded run of the side changes nothing. */
  stopped(side: Side, run: object): void {
    if (this.reasoning.get(side) !== run) return;
    this.reasoning.delete(side);
    if (this.reasoning.size === 0) this.push({ t: 'thinking', turn: this.turn, active: false });
  }
}
