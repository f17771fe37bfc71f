import { describe, expect, it } from 'vitest';
import type { ConvMetadata } from '../../server/classify/style.js';
import { computeLeaderboard } from '../../server/rating/leaderboard.js';
import { mulberry32 } from '../../server/random.js';
import { fitStyleControl, StyleRows } from '../../server/rating/style-control.js';
import { RIDGE } from '../../server/rating/bradley-terry.js';
import type { VoteRecord } from '../../server/store/types.js';

const zero6 = { h1: 0, h2: 0, h3: 0, h4: 0, h5: 0, h6: 0 };

function meta(a: [number, number, number, number], b: [number, number, number, number]): ConvMetadata {
  return {
    sum_user_tokens: 10,
    sum_assistant_a_tokens: a[0],
    sum_assistant_b_tokens: b[0],
    context_a_tokens: 0,
    context_b_tokens: 0,
    turns: 1,
    header_count_a: { ...zero6, h2: a[1] },
    list_count_a: { ordered: a[2], unordered: 0 },
    bold_count_a: { '**': 0, __: a[3] },
    header_count_b: { ...zero6, h3: b[1] },
    list_count_b: { ordered: 0, unordered: b[2] },
    bold_count_b: { '**': b[3], __: 0 },
  };
}

/**
 * Battles from known ratings where answers from "verbose" models are longer and more formatted,
 * and voters also prefer longer, more formatted answers (γ on the normalised token difference).
 */
function simulate(count: number, seed: number) {
  const rng = mulberry32(seed);
  const models = { alpha: 0.6, bravo: 0.2, charlie: 0, delta: -0.3, echo: -0.5 };
  const verbose = new Set(['delta', 'echo']);
  const names = Object.keys(models) as (keyof typeof models)[];
  const votes: VoteRecord[] = [];
  for (let n = 0; n < count; n++) {
    const a = names[Math.floor(rng() * names.length)];
    let b = names[Math.floor(rng() * names.length)];
    while (b === a) b = names[Math.floor(rng() * names.length)];
    const features = (m: string): [number, number, number, number] => {
      const long = verbose.has(m);
      return [Math.round((long ? 600 : 200) * (0.5 + rng())), long ? Math.floor(rng() * 4) : 0, Math.floor(rng() * (long ? 8 : 3)), Math.floor(rng() * 3)];
    };
    const fa = features(a);
    const fb = features(b);
    const tokenRatio = (fa[0] - fb[0]) / (fa[0] + fb[0] + 1);
    const pA = 1 / (1 + Math.exp(-(models[a] - models[b] + 1.5 * tokenRatio)));
    const u = rng();
    const choice = u < 0.1 ? 'tie' : rng() < pA ? 'left' : 'right';
    votes.push({ battleId: `s${n}`, modelLeft: a, modelRight: b, choice, excluded: false, judge: 'j', tstamp: n, style: meta(fa, fb) });
  }
  return { votes, models };
}

/** FastChat's feature preparation, written out independently: ratio, then (x − mean) / std. */
function referenceFeatures(votes: VoteRecord[]): number[][] {
  const total = (o: object) => Object.values(o).reduce((s: number, v) => s + (v as number), 0);
  const side = (m: ConvMetadata, s: 'a' | 'b') => [
    s === 'a' ? m.sum_assistant_a_tokens : m.sum_assistant_b_tokens,
    total(s === 'a' ? m.header_count_a : m.header_count_b),
    total(s === 'a' ? m.list_count_a : m.list_count_b),
    total(s === 'a' ? m.bold_count_a : m.bold_count_b),
  ];
  const ratios = votes.map((v) => {
    const a = side(v.style!, 'a');
    const b = side(v.style!, 'b');
    return a.map((x, f) => (x - b[f]) / (x + b[f] + 1));
  });
  const columns = [0, 1, 2, 3].map((f) => {
    const values = ratios.map((r) => r[f]);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    return values.map((v) => (v - mean) / std);
  });
  return ratios.map((_, n) => columns.map((column) => column[n]));
}

/** Plain gradient ascent on the same penalised likelihood: slow, obviously correct. */
function referenceFit(votes: VoteRecord[], models: string[]): number[] {
  const z = referenceFeatures(votes);
  const index = new Map(models.map((m, i) => [m, i]));
  const theta = new Array(models.length + 4).fill(0);
  const score = { left: 1, right: 0, tie: 0.5, bothbad: 0.5 };
  for (let step = 0; step < 4000; step++) {
    const gradient = theta.map((t) => -RIDGE * t);
    votes.forEach((v, n) => {
      const i = index.get(v.modelLeft)!;
      const j = index.get(v.modelRight)!;
      const margin = theta[i] - theta[j] + z[n].reduce((s, x, f) => s + x * theta[models.length + f], 0);
      const residual = score[v.choice] - 1 / (1 + Math.exp(-margin));
      gradient[i] += residual;
      gradient[j] -= residual;
      z[n].forEach((x, f) => (gradient[models.length + f] += residual * x));
    });
    for (let k = 0; k < theta.length; k++) theta[k] += (0.5 / votes.length) * gradient[k] * 4;
  }
  return theta;
}

describe('style control (contextual Bradley-Terry)', () => {
  it('matches a reference gradient-ascent fit of the same likelihood on FastChat-normalised features', () => {
    const { votes, models } = simulate(1_500, 7);
    const names = Object.keys(models);
    const rows = new StyleRows();
    const score = { left: 1, right: 0, tie: 0.5, bothbad: 0.5 };
    for (const v of votes) rows.add(names.indexOf(v.modelLeft), names.indexOf(v.modelRight), score[v.choice], v.style!);
    expect(rows.length).toBe(1_500);
    const fit = fitStyleControl(rows, names.length);
    const reference = referenceFit(votes, names);
    names.forEach((_, i) => expect(fit.beta[i]).toBeCloseTo(reference[i], 3));
    [0, 1, 2, 3].forEach((f) => expect(fit.coefficients[f]).toBeCloseTo(reference[names.length + f], 3));
  });

  it('finds the planted preference for longer answers and undoes the verbose models\' advantage', () => {
    const { votes, models } = simulate(6_000, 11);
    const board = computeLeaderboard(votes, { bootstrapRounds: 0 });
    expect(board.style?.votes).toBe(6_000);
    expect(board.style!.coefficients.tokens).toBeGreaterThan(0.2);
    const scale = 400 / Math.LN10;
    // Centre the truth like the fit (mean 0) before comparing.
    const mean = Object.values(models).reduce((s, v) => s + v, 0) / 5;
    const truth = (m: keyof typeof models) => 1000 + scale * (models[m] - mean);
    let rawError = 0;
    let styleError = 0;
    for (const row of board.rows) {
      const m = row.model as keyof typeof models;
      rawError += Math.abs(row.rating - truth(m));
      styleError += Math.abs(row.style!.rating - truth(m));
      expect(row.style!.ciLow).toBeLessThan(row.style!.rating);
      expect(row.style!.ciHigh).toBeGreaterThan(row.style!.rating);
    }
    expect(styleError).toBeLessThan(rawError / 2);
    // Verbose "echo" is rated above its true strength raw, close to it with style held equal.
    const echo = board.rows.find((r) => r.model === 'echo')!;
    expect(echo.rating - truth('echo')).toBeGreaterThan(20);
    expect(Math.abs(echo.style!.rating - truth('echo'))).toBeLessThan(echo.rating - truth('echo'));
  });

  it('leaves votes without style features out of this fit only', () => {
    const { votes } = simulate(200, 3);
    const withoutStyle = votes.map((v, n) => (n % 2 ? { ...v, style: undefined } : v));
    const board = computeLeaderboard(withoutStyle, { bootstrapRounds: 0 });
    expect(board.countedVotes).toBe(200);
    expect(board.style?.votes).toBe(100);
    expect(computeLeaderboard(votes.map((v) => ({ ...v, style: undefined })), { bootstrapRounds: 0 }).style).toBeUndefined();
  });
});
