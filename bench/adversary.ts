/**
 * Vote hygiene against a targeted adversary (`npm run bench -- --adversary`, or
 * `npx tsx bench/adversary.ts`). Honest judges vote from known Bradley-Terry strengths; an
 * adversary who can tell one model apart votes for it in every battle it appears in. Reported:
 * where the target ranks (by rating, 1 = top) and its rating, without the adversary, with it and
 * no hygiene, and with it under the default rules (docs/ratings.md), averaged over seeds.
 */
import { pathToFileURL } from 'node:url';
import { computeLeaderboard } from '../server/rating/leaderboard.js';
import { DEFAULT_HYGIENE, screenVotes } from '../server/rating/hygiene.js';
import { mulberry32 } from '../server/random.js';
import type { VoteChoice, VoteRecord } from '../server/store/types.js';

export interface AdversaryOptions {
  models: number;
  honestVotes: number;
  /** Votes per honest judge. */
  votesPerJudge: number;
  attacks: number[];
  /** Adversary votes per session before it takes a fresh one (Infinity: one session). */
  sessionSizes: number[];
  /** Days the honest votes and the attack are spread over. */
  honestDays: number;
  attackDays: number;
  seeds: number;
}

export const DEFAULT_ADVERSARY: AdversaryOptions = {
  models: 10,
  honestVotes: 5_000,
  votesPerJudge: 2,
  attacks: [100, 300, 1_000],
  sessionSizes: [Infinity, 15],
  honestDays: 30,
  attackDays: 3,
  seeds: 5,
};

const DAY = 86_400_000;
const SPACING = 40;

export interface AdversaryRow {
  attack: number;
  sessionSize: number;
  baseline: { rank: number; rating: number };
  unprotected: { rank: number; rating: number };
  protected: { rank: number; rating: number };
  /** Share of the adversary's votes the rules kept off the board. */
  excludedShare: number;
}

export function runAdversaryBench(opts: AdversaryOptions = DEFAULT_ADVERSARY): AdversaryRow[] {
  const rows: AdversaryRow[] = [];
  for (const attack of opts.attacks) {
    for (const sessionSize of opts.sessionSizes) {
      const sum = { baseline: [0, 0], unprotected: [0, 0], protected: [0, 0], excluded: 0 };
      for (let seed = 0; seed < opts.seeds; seed++) {
        const { honest, adversary, target } = simulate(opts, attack, sessionSize, seed);
        const add = (key: 'baseline' | 'unprotected' | 'protected', votes: VoteRecord[]) => {
          const place = placeOf(votes, target);
          sum[key][0] += place.rank;
          sum[key][1] += place.rating;
        };
        add('baseline', screenVotes(honest));
        add('unprotected', [...honest, ...adversary]);
        const screened = screenVotes([...honest, ...adversary]);
        add('protected', screened);
        sum.excluded += screened.slice(honest.length).filter((v) => v.excluded).length / adversary.length;
      }
      const mean = ([rank, rating]: number[]) => ({ rank: rank / opts.seeds, rating: rating / opts.seeds });
      rows.push({
        attack,
        sessionSize,
        baseline: mean(sum.baseline),
        unprotected: mean(sum.unprotected),
        protected: mean(sum.protected),
        excludedShare: sum.excluded / opts.seeds,
      });
    }
  }
  return rows;
}

function simulate(opts: AdversaryOptions, attack: number, sessionSize: number, seed: number) {
  const rng = mulberry32(1_000 + seed);
  const names = Array.from({ length: opts.models }, (_, i) => `model-${String(i + 1).padStart(2, '0')}`);
  // True strengths 1180, 1140, …: the target is the sixth, just below the middle.
  const strength = new Map(names.map((name, i) => [name, 1000 + SPACING * ((opts.models - 1) / 2 - i)]));
  const target = names[5];
  const pair = () => {
    const a = Math.floor(rng() * names.length);
    const b = (a + 1 + Math.floor(rng() * (names.length - 1))) % names.length;
    return [names[a], names[b]] as const;
  };
  const honest: VoteRecord[] = [];
  for (let i = 0; i < opts.honestVotes; i++) {
    const [left, right] = pair();
    const pLeft = 1 / (1 + 10 ** ((strength.get(right)! - strength.get(left)!) / 400));
    const u = rng();
    const choice: VoteChoice = u < 0.1 ? 'tie' : rng() < pLeft ? 'left' : 'right';
    const tstamp = Math.floor((i / opts.honestVotes) * opts.honestDays * DAY);
    honest.push(vote(`h${i}`, `honest-${Math.floor(i / opts.votesPerJudge)}`, left, right, choice, tstamp, `hp${i}`));
  }
  const adversary: VoteRecord[] = [];
  for (let i = 0; i < attack; i++) {
    const others = names.filter((n) => n !== target);
    const opponent = others[Math.floor(rng() * others.length)];
    const targetLeft = rng() < 0.5;
    const session = Number.isFinite(sessionSize) ? `adv-${Math.floor(i / sessionSize)}` : 'adv';
    const tstamp = opts.honestDays * DAY + Math.floor((i / attack) * opts.attackDays * DAY);
    adversary.push(
      vote(`a${i}`, session, targetLeft ? target : opponent, targetLeft ? opponent : target, targetLeft ? 'left' : 'right', tstamp, `ap${i}`),
    );
  }
  return { honest, adversary, target };
}

function vote(battleId: string, judge: string, modelLeft: string, modelRight: string, choice: VoteChoice, tstamp: number, promptHash: string): VoteRecord {
  return { battleId, judge, modelLeft, modelRight, choice, excluded: false, tstamp, promptHash };
}

function placeOf(votes: VoteRecord[], target: string): { rank: number; rating: number } {
  const board = computeLeaderboard(votes, { bootstrapRounds: 0 });
  const index = board.rows.findIndex((row) => row.model === target);
  return { rank: index + 1, rating: board.rows[index].rating };
}

export function formatAdversaryMarkdown(rows: AdversaryRow[], opts: AdversaryOptions = DEFAULT_ADVERSARY): string {
  const rules = DEFAULT_HYGIENE;
  const lines = [
    `${opts.models} models ${SPACING} rating points apart; the target is the 6th strongest. ${opts.honestVotes.toLocaleString('en')} honest votes ` +
      `(${opts.votesPerJudge} per judge, uniform pairs, 10% ties) over ${opts.honestDays} days; then the adversary votes for the target in every ` +
      `battle it is in, over ${opts.attackDays} days, a new prompt each time. Rules: pair cap ${rules.pairCapPerDay}/day, duplicate window ` +
      `${rules.duplicateWindowMs / 60_000} min, flag at ≥ ${rules.flagMinVotes} decisive votes with p < ${rules.flagAlpha}. Mean of ${opts.seeds} seeds; ` +
      `rank = position by rating (1 = top).`,
    '',
    '| adversary votes | sessions | target rank / rating, no attack | attack, no rules | attack, with rules | adversary votes excluded |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const cell = (p: { rank: number; rating: number }) => `${p.rank.toFixed(1)} / ${Math.round(p.rating)}`;
    const sessions = Number.isFinite(row.sessionSize) ? `new every ${row.sessionSize} votes` : 'one';
    lines.push(
      `| ${row.attack} | ${sessions} | ${cell(row.baseline)} | ${cell(row.unprotected)} | ${cell(row.protected)} | ${(row.excludedShare * 100).toFixed(0)}% |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now();
  console.log(formatAdversaryMarkdown(runAdversaryBench()));
  console.error(`[bench] adversary simulation took ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
