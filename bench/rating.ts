/**
 * Rating benchmarks. `npx tsx bench/rating.ts`
 *  (a) speed: Bradley-Terry + bootstrap on a million synthetic battles, split by stage;
 *  (b) convergence: votes each pairing strategy needs before every model's 95% interval is
 *      narrower than a threshold (the max width: the board is only as settled as its least
 *      certain model), simulated from known Bradley-Terry strengths, averaged over seeds.
 */
import { pathToFileURL } from 'node:url';
import type { VoteChoice, VoteRecord } from '../server/store/types.js';
import { bootstrapRatings, percentileIntervals } from '../server/rating/bootstrap.js';
import { fitBradleyTerry } from '../server/rating/bradley-terry.js';
import { computeElo } from '../server/rating/elo.js';
import { computeLeaderboard, VoteTally } from '../server/rating/leaderboard.js';
import { collapseVotes } from '../server/rating/outcomes.js';
import {
  PAIRING_STRATEGIES,
  pairingStatsFromLeaderboard,
  samplePair,
  type ModelPairingStats,
  type PairingStrategy,
} from '../server/rating/pairing.js';
import { mulberry32 } from '../server/random.js';

export interface RatingBenchOptions {
  speed?: Partial<SpeedOptions>;
  convergence?: Partial<ConvergenceOptions>;
}

export interface SpeedOptions {
  battles: number;
  models: number;
  rounds: number;
  seed: number;
}

export interface SpeedFigures extends SpeedOptions {
  collapseMs: number;
  fitMs: number;
  bootstrapMs: number;
  /** collapse + fit + bootstrap. */
  totalMs: number;
  /** Online Elo over the same votes (also part of a leaderboard). */
  eloMs: number;
  /** computeLeaderboard end to end: filter, all of the above, tallies. */
  leaderboardMs: number;
  /** What a live refresh costs: fold the last LIVE_REFRESH_VOTES votes into a tally holding the rest, then the board. */
  liveRefreshMs: number;
}

const LIVE_REFRESH_VOTES = 100;

export interface ConvergenceOptions {
  models: number;
  /** True ratings are spread evenly over 1000 ± spread / 2. */
  spread: number;
  /** Stop once the widest 95% interval is narrower than this (rating points). */
  threshold: number;
  seeds: number;
  /** Votes between leaderboard refreshes, as a live arena recomputes periodically. */
  refreshEvery: number;
  maxVotes: number;
  rounds: number;
  strategies: readonly PairingStrategy[];
}

export interface StrategyFigures {
  strategy: PairingStrategy;
  /** Votes needed per seed; maxVotes when the threshold was never reached. */
  votesPerSeed: number[];
  meanVotes: number;
  /** Mean votes relative to uniform's. */
  relativeToUniform: number;
}

export interface RatingBenchResult {
  speed: SpeedFigures;
  convergence: ConvergenceOptions & { results: StrategyFigures[] };
}

const DEFAULT_SPEED: SpeedOptions = { battles: 1_000_000, models: 50, rounds: 100, seed: 1 };
const DEFAULT_CONVERGENCE: ConvergenceOptions = {
  models: 20,
  spread: 800,
  threshold: 60,
  seeds: 5,
  refreshEvery: 50,
  maxVotes: 40_000,
  rounds: 100,
  strategies: PAIRING_STRATEGIES,
};
const TIE_RATE = 0.15;

export async function runRatingBench(opts: RatingBenchOptions = {}): Promise<RatingBenchResult> {
  const speed = measureSpeed({ ...DEFAULT_SPEED, ...opts.speed });
  const convergenceOptions = { ...DEFAULT_CONVERGENCE, ...opts.convergence };
  return { speed, convergence: { ...convergenceOptions, results: compareStrategies(convergenceOptions) } };
}

export function measureSpeed(options: SpeedOptions): SpeedFigures {
  const votes = syntheticVotes(options);
  const timed = <T>(work: () => T): [T, number] => {
    const start = performance.now();
    const result = work();
    return [result, performance.now() - start];
  };
  const [table, collapseMs] = timed(() => collapseVotes(votes));
  const [beta, fitMs] = timed(() => fitBradleyTerry(table));
  const [, bootstrapMs] = timed(() =>
    percentileIntervals(
      bootstrapRatings(table, { rounds: options.rounds, seed: options.seed, start: beta }),
      table.models.length,
    ),
  );
  const [, eloMs] = timed(() => computeElo(votes));
  const [, leaderboardMs] = timed(() => computeLeaderboard(votes, { bootstrapRounds: options.rounds }));
  const tally = new VoteTally(false);
  tally.add(votes.slice(0, -LIVE_REFRESH_VOTES));
  const [, liveRefreshMs] = timed(() => {
    tally.add(votes.slice(-LIVE_REFRESH_VOTES));
    return tally.board({ bootstrapRounds: options.rounds });
  });
  const totalMs = collapseMs + fitMs + bootstrapMs;
  return { ...options, collapseMs, fitMs, bootstrapMs, totalMs, eloMs, leaderboardMs, liveRefreshMs };
}

/** Uniformly paired battles among models spread over 1000 ± 300, with some ties. */
function syntheticVotes(options: SpeedOptions): VoteRecord[] {
  const rng = mulberry32(options.seed);
  const models = modelIds(options.models);
  const ratings = evenRatings(options.models, 600);
  const votes: VoteRecord[] = [];
  for (let index = 0; index < options.battles; index++) {
    const left = Math.floor(rng() * options.models);
    const right = (left + 1 + Math.floor(rng() * (options.models - 1))) % options.models;
    const choice: VoteChoice = rng() < TIE_RATE ? 'tie' : simulatedChoice(ratings[left], ratings[right], rng);
    votes.push(voteRecord(index, models[left], models[right], choice));
  }
  return votes;
}

export function compareStrategies(options: ConvergenceOptions): StrategyFigures[] {
  const runs = options.strategies.map((strategy) => ({
    strategy,
    votesPerSeed: Array.from({ length: options.seeds }, (_, seed) => votesToConverge(strategy, seed + 1, options)),
  }));
  const uniform = mean(runs.find((run) => run.strategy === 'uniform')?.votesPerSeed ?? [NaN]);
  return runs.map((run) => {
    const meanVotes = mean(run.votesPerSeed);
    return { ...run, meanVotes, relativeToUniform: meanVotes / uniform };
  });
}

/** Simulates one arena until the widest interval is below the threshold; returns the votes used. */
export function votesToConverge(strategy: PairingStrategy, seed: number, options: ConvergenceOptions): number {
  const rng = mulberry32(seed);
  const models = modelIds(options.models);
  const spreadRatings = evenRatings(options.models, options.spread);
  const trueRatings = new Map(models.map((model, index) => [model, spreadRatings[index]]));
  const votes: VoteRecord[] = [];
  let stats = new Map<string, ModelPairingStats>();
  while (votes.length < options.maxVotes) {
    for (let i = 0; i < options.refreshEvery; i++) {
      const [left, right] = samplePair(strategy, models, stats, rng)!;
      const choice = simulatedChoice(trueRatings.get(left)!, trueRatings.get(right)!, rng);
      votes.push(voteRecord(votes.length, left, right, choice));
      countVote(stats, left);
      countVote(stats, right);
    }
    const leaderboard = computeLeaderboard(votes, { bootstrapRounds: options.rounds, seed });
    if (leaderboard.rows.length === options.models && widestInterval(leaderboard.rows) < options.threshold) break;
    stats = pairingStatsFromLeaderboard(leaderboard);
  }
  return votes.length;
}

/** Live vote counts between refreshes, as the arena keeps them. */
function countVote(stats: Map<string, ModelPairingStats>, model: string): void {
  const current = stats.get(model);
  stats.set(model, { ...current, votes: (current?.votes ?? 0) + 1 });
}

function widestInterval(rows: readonly { ciLow: number; ciHigh: number }[]): number {
  return Math.max(...rows.map((row) => row.ciHigh - row.ciLow));
}

function simulatedChoice(leftRating: number, rightRating: number, rng: () => number): VoteChoice {
  const leftWins = 1 / (1 + 10 ** ((rightRating - leftRating) / 400));
  return rng() < leftWins ? 'left' : 'right';
}

function voteRecord(index: number, modelLeft: string, modelRight: string, choice: VoteChoice): VoteRecord {
  return { battleId: `b${index}`, modelLeft, modelRight, choice, excluded: false, judge: 'bench', tstamp: index };
}

function modelIds(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `model-${String(index).padStart(2, '0')}`);
}

function evenRatings(count: number, spread: number): number[] {
  const step = spread / Math.max(count - 1, 1);
  return Array.from({ length: count }, (_, index) => 1000 - spread / 2 + step * index);
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function formatMarkdown(result: RatingBenchResult): string {
  const { speed, convergence } = result;
  const ms = (value: number) => value.toFixed(0);
  const timings = [speed.collapseMs, speed.fitMs, speed.bootstrapMs, speed.totalMs, speed.eloMs, speed.leaderboardMs, speed.liveRefreshMs];
  return [
    `### Bradley-Terry speed: ${speed.battles.toLocaleString('en')} battles, ${speed.models} models,` +
      ` ${speed.rounds} bootstrap rounds`,
    '',
    `| collapse (ms) | fit (ms) | bootstrap (ms) | total (ms) | online Elo (ms) | computeLeaderboard (ms) | live refresh: ${LIVE_REFRESH_VOTES} new votes + board (ms) |`,
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${timings.map(ms).join(' | ')} |`,
    '',
    `### Votes until the widest 95% CI < ${convergence.threshold} points` +
      ` (${convergence.models} models over 1000 ± ${convergence.spread / 2}, ${convergence.seeds} seeds,` +
      ` refresh every ${convergence.refreshEvery} votes)`,
    '',
    '| strategy | mean votes | vs uniform | per seed |',
    '|---|---:|---:|---|',
    ...convergence.results.map(({ strategy, meanVotes, relativeToUniform, votesPerSeed }) =>
      [strategy, ms(meanVotes), relativeToUniform.toFixed(2), votesPerSeed.join(', ')].join(' | '),
    ).map((cells) => `| ${cells} |`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void runRatingBench().then((result) => console.log(formatMarkdown(result)));
}
