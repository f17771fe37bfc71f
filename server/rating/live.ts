import type { Logger } from 'pino';
import type { Store } from '../store/types.js';
import { OVERALL } from '../classify/categories.js';
import { BoardSet } from './board-set.js';
import { DEFAULT_HYGIENE, VoteHygiene, type HygieneReport, type HygieneRules } from './hygiene.js';
import type { Leaderboard } from '../../src/lib/shared/leaderboard.js';
import { runInBackground } from '../background.js';

/** Votes read from the store per query while catching up (a fresh instance on a large store). */
const VOTE_PAGE = 5_000;
/**
 * Refreshes are spaced at least this many times their own duration apart, so a steady stream of
 * votes costs at most ~10 % of a core however many models there are (the bootstrap grows with
 * models², ~0.1 s per board at 50 models).
 */
const REFRESH_SPACING = 10;
const RETRY_MS = 5_000;
const SNAPSHOT_EVERY_MS = 3_600_000;

/**
 * The board as everyone sees it: computed from the stored votes (never from per-process
 * counters, so every instance reading the same store shows the same board), debounced so a burst
 * of votes costs one recompute, and pushed to subscribers after each recompute. Readers get the
 * board of the last refresh, so asking for it never costs a recompute.
 * Each recompute reads only the votes stored since the previous one (the store's vote order is the
 * same for every reader), so its cost does not grow with the number of votes.
 */
export class LiveLeaderboard {
  /** Boards as of the last refresh, by boardKey; category boards nobody follows are dropped. */
  private readonly boards = new Map<string, Promise<Leaderboard>>();
  private latestBoard: Leaderboard | undefined;
  private timer: NodeJS.Timeout | null = null;
  /** How long each board took to compute at the last refresh (CPU, no I/O): refreshes are spaced by it. */
  private readonly boardMs = new Map<string, number>();
  private tallies = new BoardSet();
  private hygiene: VoteHygiene;
  /** A judge was flagged: their votes already folded in must come out (a full re-read, rare). */
  private replayNeeded = false;
  private lastSnapshot = { day: '', at: -Infinity, categories: new Set<string>() };
  private cursor: string | undefined;
  /** Reads run one after another, so no two fold in the same page. */
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      store: Store;
      logger: Logger;
      debounceMs: number;
      bootstrapRounds?: number;
      publish(board: Leaderboard): void;
      /** Whether a category board has subscribers here: only those are rebuilt on every refresh. */
      followed?(category: string, excludeTies: boolean): boolean;
      hygiene?: HygieneRules;
      /** Today's snapshot of every board is rewritten at refreshes at most this often (default 1 h). */
      snapshotEveryMs?: number;
    },
  ) {
    this.hygiene = new VoteHygiene(deps.hygiene ?? DEFAULT_HYGIENE);
  }

  /** Vote hygiene as of the last refresh: rules, flagged judges, exclusions (admin view). */
  async hygieneReport(): Promise<HygieneReport> {
    await this.catchUp();
    return this.hygiene.report();
  }

  /** The board as of the last refresh (computed now if there is none yet). */
  get(excludeTies: boolean, category = OVERALL): Promise<Leaderboard> {
    const key = boardKey(category, excludeTies);
    let board = this.boards.get(key);
    if (!board) {
      board = this.compute(category, excludeTies);
      this.boards.set(key, board);
      board.catch(() => this.boards.get(key) === board && this.boards.delete(key));
    }
    return board;
  }

  /** The last computed full board (ties included), for pairing; undefined until the first compute. */
  latest(): Leaderboard | undefined {
    return this.latestBoard;
  }

  /** A vote was stored (here or on another instance): refresh and push, debounced. */
  invalidate(): void {
    const refreshMs = [...this.boardMs.values()].reduce((total, ms) => total + ms, 0);
    this.schedule(Math.max(this.deps.debounceMs, refreshMs * REFRESH_SPACING));
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    this.timer ??= setTimeout(() => runInBackground(this.refresh(), this.deps.logger, 'leaderboard refresh'), delayMs);
  }

  private async refresh(): Promise<void> {
    this.timer = null;
    try {
      await this.catchUp();
      this.boards.clear();
      this.boardMs.clear();
      for (const { id: category } of this.tallies.categories()) {
        for (const excludeTies of [false, true]) {
          if (category !== OVERALL && !this.deps.followed?.(category, excludeTies)) continue;
          const board = this.build(category, excludeTies);
          this.boards.set(boardKey(category, excludeTies), Promise.resolve(board));
          this.deps.publish(board);
        }
      }
      // History is best effort: a failed write is logged and tried again at the next refresh.
      await this.snapshotIfDue().catch((err) => this.deps.logger.error({ err }, 'board snapshot failed'));
    } catch (err) {
      // Readers keep the last board; votes stored meanwhile are folded in by the retry.
      this.deps.logger.error({ err }, 'leaderboard recompute failed');
      this.schedule(RETRY_MS);
    }
  }

  /**
   * History: each board's state for the UTC day, written at the first refresh of a day (or of a new
   * board) and then at most every `snapshotEveryMs`, so the day's last write is its board as the day ended (within
   * that period). Every instance may write it; they compute the same boards from the same votes.
   */
  private async snapshotIfDue(): Promise<void> {
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const categories = this.tallies.categories().map((c) => c.id);
    const last = this.lastSnapshot;
    const fresh = day === last.day && now - last.at < (this.deps.snapshotEveryMs ?? SNAPSHOT_EVERY_MS);
    // A board that appeared since (a first vote in a new category) gets its day's snapshot at once.
    if (fresh && categories.every((id) => last.categories.has(id))) return;
    for (const category of categories) {
      for (const excludeTies of [false, true]) {
        const board = (await this.boards.get(boardKey(category, excludeTies))) ?? this.tallies.board(category, excludeTies, { bootstrapRounds: this.deps.bootstrapRounds });
        await this.deps.store.putSnapshot({
          day,
          category,
          excludeTies,
          takenAt: now,
          countedVotes: board.countedVotes,
          rows: board.rows.map(({ model, rating, ciLow, ciHigh, votes }) => ({ model, rating, ciLow, ciHigh, votes })),
        });
      }
    }
    this.lastSnapshot = { day, at: now, categories: new Set(categories) };
  }

  private async compute(category: string, excludeTies: boolean): Promise<Leaderboard> {
    await this.catchUp();
    return this.build(category, excludeTies);
  }

  /** The board from the tallies as they stand (no I/O). */
  private build(category: string, excludeTies: boolean): Leaderboard {
    const started = performance.now();
    const board = this.tallies.board(category, excludeTies, { bootstrapRounds: this.deps.bootstrapRounds });
    this.boardMs.set(boardKey(category, excludeTies), performance.now() - started);
    if (!excludeTies && category === OVERALL) this.latestBoard = board;
    return board;
  }

  private catchUp(): Promise<void> {
    this.reading = this.reading.catch(() => undefined).then(() => this.readNewVotes());
    return this.reading;
  }

  private async readNewVotes(): Promise<void> {
    for (;;) {
      const page = await this.deps.store.votesAfter(this.cursor, VOTE_PAGE);
      // The tallies and the cursor move together, so a failed read leaves nothing half-folded.
      this.tallies.add(page.votes.map((vote) => this.hygiene.screen(vote)));
      this.cursor = page.cursor;
      if (this.hygiene.takeNewFlags().length > 0) this.replayNeeded = true;
      if (page.votes.length < VOTE_PAGE) break;
    }
    while (this.replayNeeded) await this.replay();
  }

  /**
   * Reads every vote again with the flagged judges known from the start, into fresh tallies that
   * replace the old ones only once complete. Votes stored meanwhile may flag another judge: again.
   */
  private async replay(): Promise<void> {
    const hygiene = new VoteHygiene(this.hygiene.rules, this.hygiene.flags());
    const tallies = new BoardSet();
    let cursor: string | undefined;
    for (;;) {
      const page = await this.deps.store.votesAfter(cursor, VOTE_PAGE);
      tallies.add(page.votes.map((vote) => hygiene.screen(vote)));
      cursor = page.cursor;
      if (page.votes.length < VOTE_PAGE) break;
    }
    this.replayNeeded = hygiene.takeNewFlags().length > 0;
    [this.tallies, this.hygiene, this.cursor] = [tallies, hygiene, cursor];
  }
}

function boardKey(category: string, excludeTies: boolean): string {
  return `${category}|${excludeTies}`;
}
