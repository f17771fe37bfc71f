import type { VoteRecord } from '../store/types.js';
import { bootstrapRatings, percentileIntervals, rankUpperBound, type RatingIntervals } from './bootstrap.js';
import { fitBradleyTerry, toRatings } from './bradley-terry.js';
import { applyElo } from './elo.js';
import { FIRST_WINS, OutcomeCells, OUTCOMES_PER_PAIR, SECOND_WINS, TIE, type OutcomeCounts } from './outcomes.js';
import { StyleTally } from './style-control.js';
import type { CategoryInfo, Leaderboard, LeaderboardRow } from '../../src/lib/shared/leaderboard.js';

export const DEFAULT_BOOTSTRAP_ROUNDS = 100;
export const DEFAULT_BOOTSTRAP_SEED = 0;

export interface LeaderboardOptions {
  /** 0 collapses every interval onto its rating. */
  bootstrapRounds?: number;
  /** Fixed by default so recomputing on the same votes gives the same board. */
  seed?: number;
  /** Rate decisive votes only (drops ties and "both bad"). */
  excludeTies?: boolean;
}

export interface BoardLabels {
  category?: string;
  categories?: CategoryInfo[];
}

export function computeLeaderboard(votes: readonly VoteRecord[], opts: LeaderboardOptions & BoardLabels = {}): Leaderboard {
  const tally = new VoteTally(opts.excludeTies ?? false);
  tally.add(votes);
  return tally.board(opts);
}

/**
 * What a board needs from the votes, folded in as they arrive: outcome cells, online Elo and
 * counts. A live board adds only the votes stored since its last refresh, so a refresh costs the
 * same at a million votes as at a hundred; the fit and the bootstrap work on the cells.
 */
export class VoteTally {
  private readonly cells = new OutcomeCells();
  private readonly elo = new Map<string, number>();
  private readonly style = new StyleTally();
  private seen = 0;
  private counted = 0;

  constructor(readonly excludeTies: boolean) {}

  /** Oldest first: Elo depends on the order. */
  add(votes: readonly VoteRecord[]): void {
    for (const vote of votes) {
      this.seen++;
      if (!isRated(vote, this.excludeTies)) continue;
      this.counted++;
      this.cells.add(vote);
      applyElo(this.elo, vote);
      this.style.add(vote);
    }
  }

  get countedVotes(): number {
    return this.counted;
  }

  board(opts: Pick<LeaderboardOptions, 'bootstrapRounds' | 'seed'> & BoardLabels = {}): Leaderboard {
    const table = this.cells.table();
    const beta = fitBradleyTerry(table);
    const ratings = toRatings(beta);
    const intervals = estimateIntervals(table, beta, ratings, opts);
    const ranks = rankUpperBound(intervals);
    const { wins, ties } = headToHead(table);
    const order = table.models.map((_, index) => index).sort((a, b) => ratings[b] - ratings[a]);
    const style = this.style.fit();
    const styleRanks = style && styleRankOf(style.ratings);

    const rows = order.map((i): LeaderboardRow => {
      const won = sum(wins[i]);
      const lost = sum(wins.map((row) => row[i]));
      const tied = sum(ties[i]);
      const played = won + lost + tied;
      return {
        model: table.models[i],
        rank: ranks[i],
        rating: ratings[i],
        ciLow: intervals.low[i],
        ciHigh: intervals.high[i],
        elo: this.elo.get(table.models[i])!, // same votes, same models
        votes: played,
        wins: won,
        losses: lost,
        ties: tied,
        winRate: (won + tied / 2) / played,
        ...(style?.ratings.has(table.models[i]) && {
          style: { ...style.ratings.get(table.models[i])!, rank: styleRanks!.get(table.models[i])! },
        }),
      };
    });
    return {
      rows,
      models: rows.map((row) => row.model),
      winRate: order.map((i) => order.map((j) => decisiveShare(wins[i][j], wins[j][i]))),
      battles: order.map((i) => order.map((j) => wins[i][j] + wins[j][i] + ties[i][j])),
      totalVotes: this.seen,
      countedVotes: this.counted,
      excludeTies: this.excludeTies,
      category: opts.category ?? 'overall',
      categories: opts.categories ?? [{ id: 'overall', label: 'Overall', countedVotes: this.counted }],
      ...(style && { style: style.summary }),
      computedAt: Date.now(),
    };
  }
}

/** Rank (UB) among the style-controlled ratings. */
function styleRankOf(ratings: Map<string, { ciLow: number; ciHigh: number }>): Map<string, number> {
  const models = [...ratings.keys()];
  const ranks = rankUpperBound({
    low: Float64Array.from(models, (m) => ratings.get(m)!.ciLow),
    high: Float64Array.from(models, (m) => ratings.get(m)!.ciHigh),
  });
  return new Map(models.map((model, i) => [model, ranks[i]]));
}

/** A battle of a model against itself carries no information and would break pair canonicalisation. */
function isRated(vote: VoteRecord, excludeTies: boolean): boolean {
  if (vote.excluded || vote.modelLeft === vote.modelRight) return false;
  return !(excludeTies && (vote.choice === 'tie' || vote.choice === 'bothbad'));
}

function estimateIntervals(
  table: OutcomeCounts,
  beta: Float64Array,
  ratings: Float64Array,
  opts: Pick<LeaderboardOptions, 'bootstrapRounds' | 'seed'>,
): RatingIntervals {
  const rounds = opts.bootstrapRounds ?? DEFAULT_BOOTSTRAP_ROUNDS;
  if (rounds <= 0) return { low: ratings, high: ratings };
  const samples = bootstrapRatings(table, { rounds, seed: opts.seed ?? DEFAULT_BOOTSTRAP_SEED, start: beta });
  return percentileIntervals(samples, table.models.length);
}

/** Model-index matrices: wins[i][j] = i's wins over j; ties[i][j] = ties[j][i] between them. */
function headToHead(table: OutcomeCounts): { wins: number[][]; ties: number[][] } {
  const size = table.models.length;
  const wins = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  const ties = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let pair = 0; pair < table.first.length; pair++) {
    const i = table.first[pair];
    const j = table.second[pair];
    const cell = pair * OUTCOMES_PER_PAIR;
    wins[i][j] = table.counts[cell + FIRST_WINS];
    wins[j][i] = table.counts[cell + SECOND_WINS];
    ties[i][j] = ties[j][i] = table.counts[cell + TIE];
  }
  return { wins, ties };
}

function decisiveShare(won: number, lost: number): number | null {
  return won + lost === 0 ? null : won / (won + lost);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
