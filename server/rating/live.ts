import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import { VoteTally } from './leaderboard.js';
import type { Leaderboard } from './types.js';

/** Votes read from the store per query while catching up (a fresh instance on a large store). */
const VOTE_PAGE = 5_000;

/**
 * The board as everyone sees it: computed from the stored votes (never from per-process
 * counters, so every instance reading the same store shows the same board), debounced so a burst
 * of votes costs one recompute, and pushed to subscribers after each recompute.
 * Each recompute reads only the votes stored since the previous one (the store's vote order is the
 * same for every reader), so its cost does not grow with the number of votes.
 */
export class LiveLeaderboard {
  private readonly boards = new Map<boolean, Promise<Leaderboard>>();
  private latestBoard: Leaderboard | undefined;
  private timer: NodeJS.Timeout | null = null;
  private readonly tallies = new Map([false, true].map((excludeTies) => [excludeTies, new VoteTally(excludeTies)]));
  private cursor: string | undefined;
  /** Reads run one after another, so no two fold in the same page. */
  private reading: Promise<void> = Promise.resolve();

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
    await this.catchUp();
    const board = this.tallies.get(excludeTies)!.board({ bootstrapRounds: this.deps.bootstrapRounds });
    if (!excludeTies) this.latestBoard = board;
    return board;
  }

  private catchUp(): Promise<void> {
    this.reading = this.reading.catch(() => undefined).then(() => this.readNewVotes());
    return this.reading;
  }

  private async readNewVotes(): Promise<void> {
    for (;;) {
      const page = await this.deps.store.votesAfter(this.cursor, VOTE_PAGE);
      // Both tallies and the cursor move together, so a failed read leaves nothing half-folded.
      for (const tally of this.tallies.values()) tally.add(page.votes);
      this.cursor = page.cursor;
      if (page.votes.length < VOTE_PAGE) return;
    }
  }
}
