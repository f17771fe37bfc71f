import { categoryLabel, OVERALL } from '../classify/categories.js';
import { languageName } from '../classify/language.js';
import type { VoteRecord } from '../store/types.js';
import { VoteTally, type LeaderboardOptions } from './leaderboard.js';
import type { CategoryInfo, Leaderboard } from '../../src/lib/shared/leaderboard.js';

/**
 * Every board's tallies: "overall" and one per category a vote was tagged with, each with and
 * without ties. A vote is folded into the overall tallies and those of its own categories, once,
 * as it arrives, so a refresh never reads old votes again whatever the number of boards.
 */
export class BoardSet {
  private readonly tallies = new Map<string, [VoteTally, VoteTally]>();

  constructor() {
    this.tallyOf(OVERALL);
  }

  add(votes: readonly VoteRecord[]): void {
    for (const vote of votes) {
      for (const id of [OVERALL, ...(vote.categories ?? [])]) for (const tally of this.tallyOf(id)) tally.add([vote]);
    }
  }

  has(category: string): boolean {
    return this.tallies.has(category);
  }

  /** The boards there are, overall first, then by counted votes. */
  categories(): CategoryInfo[] {
    const infos = [...this.tallies.entries()].map(([id, [withTies]]) => ({
      id,
      label: categoryLabel(id, languageName),
      countedVotes: withTies.countedVotes,
    }));
    return infos.sort((a, b) => Number(b.id === OVERALL) - Number(a.id === OVERALL) || b.countedVotes - a.countedVotes || a.id.localeCompare(b.id));
  }

  /** A category nobody voted in yet gets an empty board. */
  board(category: string, excludeTies: boolean, opts: Pick<LeaderboardOptions, 'bootstrapRounds' | 'seed'> = {}): Leaderboard {
    const tally = this.tallies.get(category)?.[excludeTies ? 1 : 0] ?? new VoteTally(excludeTies);
    return tally.board({ ...opts, category, categories: this.categories() });
  }

  private tallyOf(id: string): [VoteTally, VoteTally] {
    let pair = this.tallies.get(id);
    if (!pair) {
      pair = [new VoteTally(false), new VoteTally(true)];
      this.tallies.set(id, pair);
    }
    return pair;
  }
}
