import { describe, expect, it } from 'vitest';
import { binomialUpperTail, screenVotes, VoteHygiene, type HygieneRules } from '../../server/rating/hygiene.js';
import type { VoteChoice, VoteRecord } from '../../server/store/types.js';

const RULES: HygieneRules = { pairCapPerDay: 3, duplicateWindowMs: 60_000, flagMinVotes: 20, flagAlpha: 1e-4 };
const DAY = 86_400_000;
let n = 0;

function v(judge: string, left: string, right: string, choice: VoteChoice, tstamp: number, promptHash?: string): VoteRecord {
  return { battleId: `v${n++}`, modelLeft: left, modelRight: right, choice, excluded: false, judge, tstamp, ...(promptHash && { promptHash }) };
}

const excludedOf = (votes: VoteRecord[]) => votes.map((vote) => vote.excluded);

describe('vote hygiene', () => {
  it('caps a judge\'s counted votes per model pair per UTC day, sides either way', () => {
    const votes = [
      v('j', 'a', 'b', 'left', 1),
      v('j', 'b', 'a', 'right', 2),
      v('j', 'a', 'b', 'tie', 3),
      v('j', 'b', 'a', 'left', 4), // fourth on a/b today: over the cap
      v('j', 'a', 'c', 'left', 5), // another pair
      v('k', 'a', 'b', 'left', 6), // another judge
      v('j', 'a', 'b', 'left', DAY + 1), // the next day
    ];
    expect(excludedOf(screenVotes(votes, RULES))).toEqual([false, false, false, true, false, false, false]);
  });

  it('counts the same prompt from the same judge on the same pair once within the window', () => {
    const votes = [
      v('j', 'a', 'b', 'left', 0, 'p1'),
      v('j', 'b', 'a', 'left', 30_000, 'p1'), // same pair, 30 s later
      v('j', 'a', 'c', 'left', 31_000, 'p1'), // "Next": another pair, counts
      v('k', 'a', 'b', 'left', 32_000, 'p1'), // another judge
      v('j', 'a', 'b', 'right', 61_000, 'p1'), // past the window
    ];
    expect(excludedOf(screenVotes(votes, RULES))).toEqual([false, true, false, false, false]);
  });

  it('flags a judge who picks one model far beyond the crowd, and excludes all of their votes', () => {
    const votes: VoteRecord[] = [];
    // The crowd: x wins half of its decisive battles.
    for (let i = 0; i < 200; i++) votes.push(v(`crowd${i}`, 'x', i % 2 ? 'y' : 'z', i % 2 ? 'left' : 'right', i));
    // The adversary: x every time, 20 votes over several days (under the pair cap), spread over opponents.
    for (let i = 0; i < 20; i++) votes.push(v('adv', i % 2 ? 'x' : 'y', i % 2 ? 'z' : 'x', i % 2 ? 'left' : 'right', 1_000 + i * DAY));
    const hygiene = new VoteHygiene(RULES);
    const firstPass = votes.map((vote) => hygiene.screen(vote));
    // Flagged at the 20th vote: P(X ≥ 20 | n = 20, p0 = 0.5) = 2⁻²⁰ ≈ 9.5e-7 < 1e-4.
    expect(hygiene.takeNewFlags()).toEqual(['adv']);
    const [flag] = hygiene.flags();
    expect(flag).toMatchObject({ judge: 'adv', model: 'x', votes: 20, wins: 20 });
    expect(flag.expected).toBeCloseTo(0.5, 2);
    expect(flag.pValue).toBeCloseTo(2 ** -20, 10);
    expect(firstPass.filter((vote) => vote.excluded)).toHaveLength(1); // only the tipping vote, live
    const screened = screenVotes(votes, RULES);
    expect(screened.filter((vote) => vote.judge === 'adv').every((vote) => vote.excluded)).toBe(true);
    expect(screened.filter((vote) => vote.judge !== 'adv').some((vote) => vote.excluded)).toBe(false);
    expect(hygiene.report().excluded).toEqual({ pair_cap: 0, duplicate_prompt: 0, flagged_judge: 1 });
  });

  it('does not flag a judge who agrees with a crowd that finds one model much better', () => {
    const votes: VoteRecord[] = [];
    // The crowd: x wins 90 %.
    for (let i = 0; i < 500; i++) votes.push(v(`crowd${i}`, 'x', 'y', i % 10 ? 'left' : 'right', i));
    // A judge picking x 19 times out of 20: as expected of anyone.
    for (let i = 0; i < 20; i++) votes.push(v('fan', 'x', 'y', i === 7 ? 'right' : 'left', 1_000 + i * DAY));
    const hygiene = new VoteHygiene(RULES);
    votes.forEach((vote) => hygiene.screen(vote));
    expect(hygiene.flags()).toEqual([]);
  });

  it('never flags a lone judge: without other judges\' votes on the model there is nothing to compare with', () => {
    const votes = Array.from({ length: 40 }, (_, i) => v('only-user', 'x', i % 2 ? 'y' : 'z', 'left', i * DAY));
    const hygiene = new VoteHygiene(RULES);
    expect(votes.map((vote) => hygiene.screen(vote)).some((vote) => vote.excluded)).toBe(false);
    expect(hygiene.flags()).toEqual([]);
  });

  it('leaves leaked (already excluded) votes and self-battles out of every counter', () => {
    const leaked = { ...v('j', 'a', 'b', 'left', 1), excluded: true };
    const votes = [leaked, leaked, leaked, leaked, v('j', 'a', 'a', 'left', 2), v('j', 'a', 'b', 'left', 3)];
    expect(excludedOf(screenVotes(votes, { ...RULES, pairCapPerDay: 1 }))).toEqual([true, true, true, true, false, false]);
  });
});

describe('binomialUpperTail', () => {
  it('matches exact values', () => {
    expect(binomialUpperTail(8, 10, 0.5)).toBeCloseTo(56 / 1024, 12);
    expect(binomialUpperTail(0, 10, 0.3)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.3)).toBe(0);
    expect(binomialUpperTail(3, 3, 0.9)).toBeCloseTo(0.729, 12);
    // Large n stays finite: P(X ≥ 600 | 1000, 0.5) ≈ 1.4e-10.
    const tail = binomialUpperTail(600, 1_000, 0.5);
    expect(tail).toBeGreaterThan(1e-11);
    expect(tail).toBeLessThan(1e-9);
  });
});
