import type { VoteRecord } from '../store/types.js';
import { bootstrapRatings, percentileIntervals, rankUpperBound, type RatingIntervals } from './bootstrap.js';
import { fitBradleyTerry, toRatings } from './bradley-terry.js';
import { computeElo } from './elo.js';
import { collapseVotes, FIRST_WINS, OUTCOMES_PER_PAIR, SECOND_WINS, TIE, type OutcomeCounts } from './outcomes.js';
import type { Leaderboard, LeaderboardRow } from './types.js';

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

export function computeLeaderboard(votes: readonly VoteRecord[], opts: LeaderboardOptions = {}): Leaderboard {
  const excludeTies = opts.excludeTies ?? false;
  const counted = votes.filter((vote) => isRated(vote, excludeTies));
  const table = collapseVotes(counted);
  const beta = fitBradleyTerry(table);
  const ratings = toRatings(beta);
  const intervals = estimateIntervals(table, beta, ratings, opts);
  const ranks = rankUpperBound(intervals);
  const elo = computeElo(counted);
  const { wins, ties } = headToHead(table);
  const order = table.models.map((_, index) => index).sort((a, b) => ratings[b] - ratings[a]);

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
      elo: elo.get(table.models[i])!, // same votes, same models
      votes: played,
      wins: won,
      losses: lost,
      ties: tied,
      winRate: (won + tied / 2) / played,
    };
  });
  return {
    rows,
    models: rows.map((row) => row.model),
    winRate: order.map((i) => order.map((j) => decisiveShare(wins[i][j], wins[j][i]))),
    battles: order.map((i) => order.map((j) => wins[i][j] + wins[j][i] + ties[i][j])),
    totalVotes: votes.length,
    countedVotes: counted.length,
    excludeTies,
    computedAt: Date.now(),
  };
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
  opts: LeaderboardOptions,
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
