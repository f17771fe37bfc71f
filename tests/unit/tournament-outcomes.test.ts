import { describe, expect, it } from 'vitest';
import { newTournament, nextRound, recordRound, tournamentView } from '../../server/arena/tournament.js';
import type { VoteChoice } from '../../src/lib/shared/protocol.js';

/** Plays a tournament with the given vote per round (the pair is always champion first, on the left). */
function play(models: string[], votes: VoteChoice[]) {
  const t = newTournament('t1', 'p', models);
  for (const vote of votes) {
    const [left, right] = nextRound(t)!;
    recordRound(t, left, right, vote);
  }
  return tournamentView(t, (id) => id.toUpperCase());
}

describe('tournament results by outcome', () => {
  it('labels the champion, the finalist and each early exit, with who beat whom', () => {
    // a beats b (r1), c beats a (r2), c beats d (r3, the final).
    const view = play(['a', 'b', 'c', 'd'], ['left', 'right', 'left']);
    expect(view.done).toBe(true);
    expect(view.ranking).toEqual([
      { model: 'c', label: 'C', wins: 2, beat: ['A', 'D'] },
      { model: 'd', label: 'D', wins: 0, outRound: 3, lostTo: 'C', beat: [] },
      { model: 'a', label: 'A', wins: 1, outRound: 2, lostTo: 'C', beat: ['B'] },
      { model: 'b', label: 'B', wins: 0, outRound: 1, lostTo: 'A', beat: [] },
    ]);
  });

  it('a tie keeps the incumbent, who is then said to have beaten the challenger', () => {
    const view = play(['a', 'b', 'c'], ['tie', 'bothbad']);
    expect(view.ranking!.map((r) => [r.model, r.outRound, r.lostTo, r.beat])).toEqual([
      ['a', undefined, undefined, ['B', 'C']],
      ['c', 2, 'A', []],
      ['b', 1, 'A', []],
    ]);
  });

  it('has no ranking before the final', () => {
    expect(play(['a', 'b', 'c'], ['left']).ranking).toBeUndefined();
  });
});
