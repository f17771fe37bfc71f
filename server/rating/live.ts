import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import { computeLeaderboard } from './leaderboard.js';
import type { Leaderboard } from './types.js';

/**
 * The board as everyone sees it: recomputed from the stored votes (never from per-process
 * counters, so every instance reading the same store shows the same board), debounced so a burst
 * of votes costs one recompute, and pushed to subscribers after each recompute.
 */
export class LiveLeaderboard {
  private readonly boards = new Map<boolean, Promise<Leaderboard>>();
  private latestBoard: Leaderboard | undefined;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      store: Store;
      logger: Logger;
      debounceMs: number;
      bootstrapRounds?: number;
      publish(excludeTies: boolean, board: Leaderboard): void;
    },
  ) {}

  get(excludeTies: boolean): Promise<Leaderboard> {
    let board = this.boards.get(excludeTies);
    if (!board) {
      board = this.compute(excludeTies);
      this.boards.set(excludeTies, board);
      board.catch(() => this.boards.delete(excludeTies));
    }
    return board;
  }

  /** The last computed full board (ties included), for pairing; undefined until the first compute. */
  latest(): Leaderboard | undefined {
    return this.latestBoard;
  }

  /** A vote was stored (here or on another instance): the next reader recomputes; pushes are debounced. */
  invalidate(): void {
    this.boards.clear();
    this.timer ??= setTimeout(() => void this.refresh(), this.deps.debounceMs);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async refresh(): Promise<void> {
    this.timer = null;
    this.boards.clear();
    for (const excludeTies of [false, true]) {
      try {
        this.deps.publish(excludeTies, await this.get(excludeTies));
      } catch (err) {
        this.deps.logger.error({ err }, 'leaderboard recompute failed');
      }
    }
  }

  private async compute(excludeTies: boolean): Promise<Leaderboard> {
    const votes = await this.deps.store.listVotes();
    const board = computeLeaderboard(votes, { excludeTies, bootstrapRounds: this.deps.bootstrapRounds });
    if (!excludeTies) this.latestBoard = board;
    return board;
  }
}
