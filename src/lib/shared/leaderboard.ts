/**
 * Leaderboard shapes as they cross the wire (`leaderboard:subscribe`, `leaderboard:update`). Ratings are on the Elo scale:
 * 1000 is the average model, +400 means 10:1 odds of winning.
 */

export interface LeaderboardRow {
  model: string;
  /** Rank (UB): 1 + number of models whose CI lower bound is above this model's CI upper bound. */
  rank: number;
  /** Bradley-Terry maximum-likelihood rating on all counted votes. */
  rating: number;
  /** 95% bootstrap interval of `rating` (2.5 / 97.5 percentiles). */
  ciLow: number;
  ciHigh: number;
  /** Online Elo (K = 4) in vote order; order-dependent, shown for reference only. */
  elo: number;
  /** Counted battles this model took part in. */
  votes: number;
  wins: number;
  losses: number;
  /** Ties and "both bad" votes. */
  ties: number;
  /** (wins + ties / 2) / votes: a tie scores half a win, as in the Bradley-Terry fit. */
  winRate: number;
  /**
   * Style-controlled rating (contextual Bradley-Terry with FastChat's style features) and its 95%
   * Wald interval; absent when none of this model's counted votes carried style features.
   */
  style?: { rating: number; ciLow: number; ciHigh: number; rank: number };
}

/** A board's id and label, with the votes it counts: what the category selector lists. */
export interface CategoryInfo {
  id: string;
  label: string;
  countedVotes: number;
}

export interface Leaderboard {
  /** Sorted by rating, best first. */
  rows: LeaderboardRow[];
  /** Model ids in the same order as `rows`; indexes the matrices below. */
  models: string[];
  /** [i][j]: share of i's decisive (non-tie) battles against j that i won; null if there were none. */
  winRate: (number | null)[][];
  /** [i][j]: counted battles between i and j (ties included); symmetric. */
  battles: number[][];
  /** All votes given, excluded ones included. */
  totalVotes: number;
  /** Votes that entered the ratings. */
  countedVotes: number;
  excludeTies: boolean;
  /** "overall", a topic ("coding", "hard_prompt", …) or "lang:<ISO 639-3>". */
  category: string;
  /** Boards there are (counted votes with ties included), "overall" first. */
  categories: CategoryInfo[];
  /** Style control on this board's votes; absent when none carried style features. */
  style?: {
    votes: number;
    coefficients: { tokens: number; headers: number; lists: number; bold: number };
  };
  computedAt: number;
}
