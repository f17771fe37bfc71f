import type { VoteRecord } from '../store/types.js';

/**
 * Vote hygiene: which stored votes the boards count. Decided for each vote in store order (the
 * same on every instance), from counters that grow with the votes:
 *  1. pair cap: a judge's counted votes per model pair per UTC day are capped;
 *  2. duplicate prompt: the same judge voting the same prompt on the same pair again within the
 *     window counts once ("Next" and tournaments show one prompt to different pairs: those count);
 *  3. biased judge: after each decisive vote, the winner's record in this judge's votes is tested
 *     against the crowd (one-sided exact binomial test, H0: the judge picks it as often as everyone
 *     else does, p0 = the other judges' decisive win share of that model, clamped to [0.5, 0.95]);
 *     with at least `flagMinVotes` such votes (and as many from other judges) and p < `flagAlpha`,
 *     the judge is flagged and every vote of theirs, earlier ones included, is excluded.
 * The rules are listed in docs/ratings.md. Votes already excluded (leaked identities) and self
 * battles never enter the counters.
 */

export interface HygieneRules {
  pairCapPerDay: number;
  duplicateWindowMs: number;
  flagMinVotes: number;
  flagAlpha: number;
}

export const DEFAULT_HYGIENE: HygieneRules = { pairCapPerDay: 10, duplicateWindowMs: 600_000, flagMinVotes: 20, flagAlpha: 1e-4 };

export type ExclusionReason = 'pair_cap' | 'duplicate_prompt' | 'flagged_judge';

export interface FlaggedJudge {
  judge: string;
  /** The model this judge picks far beyond chance. */
  model: string;
  /** This judge's decisive votes involving the model, and how many the model won, when flagged. */
  votes: number;
  wins: number;
  /** Win share expected under H0, from the other judges. */
  expected: number;
  pValue: number;
  /** Time of the vote that tipped the test. */
  at: number;
}

export interface HygieneReport {
  rules: HygieneRules;
  flagged: FlaggedJudge[];
  excluded: Record<ExclusionReason, number>;
  /** The latest exclusions, newest last. */
  recent: { battleId: string; judge: string; reason: ExclusionReason; tstamp: number }[];
}

const DAY_MS = 86_400_000;
const RECENT = 50;
/** Counter maps are swept of stale keys when they pass this size. */
const SWEEP_AT = 100_000;

interface WinCount {
  wins: number;
  votes: number;
}

export class VoteHygiene {
  private readonly pairDay = new Map<string, number>();
  private readonly lastPrompt = new Map<string, number>();
  private readonly judgeWins = new Map<string, Map<string, WinCount>>();
  private readonly crowdWins = new Map<string, WinCount>();
  private readonly flagged: Map<string, FlaggedJudge>;
  private readonly fresh: string[] = [];
  private readonly excluded: Record<ExclusionReason, number> = { pair_cap: 0, duplicate_prompt: 0, flagged_judge: 0 };
  private readonly recent: HygieneReport['recent'] = [];
  private latest = 0;

  /** `known`: judges flagged before (a replay after a new flag keeps them). */
  constructor(
    readonly rules: HygieneRules = DEFAULT_HYGIENE,
    known: Iterable<FlaggedJudge> = [],
  ) {
    this.flagged = new Map([...known].map((flag) => [flag.judge, flag]));
  }

  /** The vote as the boards count it: excluded, with its reason, when a rule applies. */
  screen(vote: VoteRecord): VoteRecord {
    const reason = this.decide(vote);
    if (!reason) return vote;
    this.excluded[reason]++;
    this.recent.push({ battleId: vote.battleId, judge: vote.judge, reason, tstamp: vote.tstamp });
    if (this.recent.length > RECENT) this.recent.shift();
    return { ...vote, excluded: true };
  }

  /** Judges flagged since the last call: their earlier votes were counted and must be taken out. */
  takeNewFlags(): string[] {
    return this.fresh.splice(0);
  }

  flags(): FlaggedJudge[] {
    return [...this.flagged.values()];
  }

  report(): HygieneReport {
    return { rules: this.rules, flagged: this.flags(), excluded: { ...this.excluded }, recent: [...this.recent] };
  }

  private decide(vote: VoteRecord): ExclusionReason | null {
    if (vote.excluded || vote.modelLeft === vote.modelRight) return null;
    this.latest = Math.max(this.latest, vote.tstamp);
    this.testBias(vote);
    if (this.flagged.has(vote.judge)) return 'flagged_judge';
    const pair = vote.modelLeft < vote.modelRight ? `${vote.modelLeft}\u0000${vote.modelRight}` : `${vote.modelRight}\u0000${vote.modelLeft}`;
    if (vote.promptHash && this.isDuplicate(`${vote.judge}\u0000${vote.promptHash}\u0000${pair}`, vote.tstamp)) return 'duplicate_prompt';
    const capKey = `${vote.judge}\u0000${pair}\u0000${Math.floor(vote.tstamp / DAY_MS)}`;
    const counted = this.pairDay.get(capKey) ?? 0;
    if (counted >= this.rules.pairCapPerDay) return 'pair_cap';
    this.pairDay.set(capKey, counted + 1);
    this.sweep();
    return null;
  }

  private isDuplicate(key: string, tstamp: number): boolean {
    const last = this.lastPrompt.get(key);
    if (last !== undefined && tstamp - last < this.rules.duplicateWindowMs) return true;
    this.lastPrompt.set(key, tstamp);
    return false;
  }

  private testBias(vote: VoteRecord): void {
    if (vote.choice !== 'left' && vote.choice !== 'right') return;
    const [winner, loser] = vote.choice === 'left' ? [vote.modelLeft, vote.modelRight] : [vote.modelRight, vote.modelLeft];
    let mine = this.judgeWins.get(vote.judge);
    if (!mine) this.judgeWins.set(vote.judge, (mine = new Map()));
    for (const [model, won] of [[winner, 1], [loser, 0]] as const) {
      bump(mine, model, won);
      bump(this.crowdWins, model, won);
    }
    if (this.flagged.has(vote.judge)) return;
    const own = mine.get(winner)!;
    if (own.votes < this.rules.flagMinVotes) return;
    const crowd = this.crowdWins.get(winner)!;
    const others = crowd.votes - own.votes;
    // Without enough other judges there is no "chance" to compare with: a lone judge of a private
    // arena who finds one model better is not an adversary.
    if (others < this.rules.flagMinVotes) return;
    const expected = Math.min(0.95, Math.max(0.5, (crowd.wins - own.wins) / others));
    if (own.wins / own.votes <= expected) return;
    const pValue = binomialUpperTail(own.wins, own.votes, expected);
    if (pValue >= this.rules.flagAlpha) return;
    this.flagged.set(vote.judge, { judge: vote.judge, model: winner, votes: own.votes, wins: own.wins, expected, pValue, at: vote.tstamp });
    this.fresh.push(vote.judge);
  }

  /** Drops per-day counters older than yesterday and prompts older than the window. */
  private sweep(): void {
    if (this.pairDay.size > SWEEP_AT) {
      const today = Math.floor(this.latest / DAY_MS);
      for (const key of this.pairDay.keys()) if (Number(key.slice(key.lastIndexOf('\u0000') + 1)) < today - 1) this.pairDay.delete(key);
    }
    if (this.lastPrompt.size > SWEEP_AT) {
      for (const [key, at] of this.lastPrompt) if (this.latest - at >= this.rules.duplicateWindowMs) this.lastPrompt.delete(key);
    }
  }
}

/**
 * Applies the rules to votes in store order, as the live boards do: a first pass finds the flagged
 * judges, the second marks every vote of theirs (exports and full recomputes use this).
 */
export function screenVotes(votes: readonly VoteRecord[], rules: HygieneRules = DEFAULT_HYGIENE): VoteRecord[] {
  const first = new VoteHygiene(rules);
  for (const vote of votes) first.screen(vote);
  const second = new VoteHygiene(rules, first.flags());
  return votes.map((vote) => second.screen(vote));
}

function bump(counts: Map<string, WinCount>, model: string, won: number): void {
  const count = counts.get(model) ?? { wins: 0, votes: 0 };
  count.wins += won;
  count.votes += 1;
  counts.set(model, count);
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed in log space so large n neither overflows nor underflows. */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  let logTerm = logChoose(n, k) + k * logP + (n - k) * logQ;
  let total = 0;
  for (let i = k; i <= n; i++) {
    total += Math.exp(logTerm);
    // C(n, i+1) / C(n, i) = (n − i) / (i + 1)
    logTerm += Math.log((n - i) / (i + 1)) + logP - logQ;
  }
  return Math.min(1, total);
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

const LOG_FACTORIALS = [0];
function logFactorial(n: number): number {
  for (let i = LOG_FACTORIALS.length; i <= n; i++) LOG_FACTORIALS.push(LOG_FACTORIALS[i - 1] + Math.log(i));
  return LOG_FACTORIALS[n];
}
