/**
 * Cost of the style-control fit per live refresh (`npx tsx bench/style-control.ts`): the
 * contextual Bradley-Terry works on one row per vote, so its time grows with the votes, unlike the
 * plain fit on per-pair cells. Synthetic votes with style features, 20 models.
 */
import { StyleTally } from '../server/rating/style-control.js';
import { mulberry32 } from '../server/random.js';
import type { ConvMetadata } from '../server/classify/style.js';

const MODELS = 20;
const SIZES = [10_000, 100_000, 1_000_000];

function meta(rng: () => number): ConvMetadata {
  const h = () => ({ h1: 0, h2: Math.floor(rng() * 3), h3: 0, h4: 0, h5: 0, h6: 0 });
  const l = () => ({ ordered: Math.floor(rng() * 4), unordered: Math.floor(rng() * 4) });
  const b = () => ({ '**': Math.floor(rng() * 5), __: 0 });
  return {
    sum_user_tokens: 20, sum_assistant_a_tokens: Math.floor(100 + rng() * 600), sum_assistant_b_tokens: Math.floor(100 + rng() * 600),
    context_a_tokens: 0, context_b_tokens: 0, turns: 1,
    header_count_a: h(), list_count_a: l(), bold_count_a: b(), header_count_b: h(), list_count_b: l(), bold_count_b: b(),
  };
}

console.log('| votes with style features | generate + fold in (ms) | first fit + Wald intervals (ms) | refit after 100 more votes (ms) | rows (MB, 25 B/row) |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (const size of SIZES) {
  const rng = mulberry32(size);
  const tally = new StyleTally();
  const started = performance.now();
  for (let i = 0; i < size; i++) {
    const a = Math.floor(rng() * MODELS);
    const b = (a + 1 + Math.floor(rng() * (MODELS - 1))) % MODELS;
    const choice = rng() < 0.1 ? 'tie' : rng() < 0.5 + (a - b) / 60 ? 'left' : 'right';
    tally.add({ modelLeft: `m${a}`, modelRight: `m${b}`, choice, style: meta(rng) });
  }
  const folded = performance.now();
  const fit = tally.fit();
  const done = performance.now();
  if (!fit || fit.summary.votes !== size) throw new Error('fit did not use every row');
  for (let i = 0; i < 100; i++) tally.add({ modelLeft: 'm0', modelRight: 'm1', choice: 'left', style: meta(rng) });
  const before = performance.now();
  if (tally.fit()?.summary.votes !== size + 100) throw new Error('refit did not use every row');
  const refit = performance.now() - before;
  console.log(`| ${size.toLocaleString('en')} | ${Math.round(folded - started)} | ${Math.round(done - folded)} | ${Math.round(refit)} | ${((size * 25) / 1e6).toFixed(0)} |`);
}
