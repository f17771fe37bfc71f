import type { TournamentView, VoteChoice } from '../../src/lib/shared/protocol.js';
import type { TournamentState } from '../store/types.js';

/** King of the hill: the winner stays, the next challenger enters; a tie or both-bad keeps the incumbent. */

export function newTournament(id: string, prompt: string, models: string[]): TournamentState {
  const [champion, ...queue] = models;
  return { id, prompt, champion, queue, battleIds: [], wins: Object.fromEntries(models.map((m) => [m, 0])), eliminated: [], done: false };
}

/** The next round's pair (champion first), taking the challenger off the queue. */
export function nextRound(t: TournamentState): [string, string] | null {
  const challenger = t.queue.shift();
  return challenger ? [t.champion, challenger] : null;
}

export function recordRound(t: TournamentState, left: string, right: string, choice: VoteChoice): void {
  const incumbent = t.champion;
  const challenger = incumbent === left ? right : left;
  const winner = choice === 'left' ? left : choice === 'right' ? right : incumbent;
  const loser = winner === incumbent ? challenger : incumbent;
  if (choice === 'left' || choice === 'right') t.wins[winner] = (t.wins[winner] ?? 0) + 1;
  t.champion = winner;
  t.eliminated.push(loser);
  if (t.queue.length === 0) t.done = true;
}

/** Champion first, then by how late each model was knocked out. */
export function ranking(t: TournamentState): { model: string; wins: number }[] {
  return [t.champion, ...[...t.eliminated].reverse()].map((model) => ({ model, wins: t.wins[model] ?? 0 }));
}

/** How each model's tournament went: the round it went out in and to whom, and whom it knocked out. */
export interface Outcome {
  outRound?: number;
  lostTo?: string;
  beat: string[];
}

/**
 * Replays the rounds: `wins` keeps the entry order (first champion, then the challengers as they
 * came), and round k knocked out eliminated[k-1]; whoever else was in that round went on.
 */
export function outcomes(t: TournamentState): Map<string, Outcome> {
  const order = Object.keys(t.wins);
  const result = new Map(order.map((model) => [model, { beat: [] } as Outcome]));
  let incumbent = order[0]!;
  t.eliminated.forEach((loser, index) => {
    const challenger = order[index + 1]!;
    const winner = loser === incumbent ? challenger : incumbent;
    Object.assign(result.get(loser)!, { outRound: index + 1, lostTo: winner });
    result.get(winner)!.beat.push(loser);
    incumbent = winner;
  });
  return result;
}

export function tournamentView(t: TournamentState, label: (id: string) => string): TournamentView {
  const rounds = Object.keys(t.wins).length - 1;
  return {
    id: t.id,
    round: t.battleIds.length,
    rounds,
    done: t.done,
    ...(t.done ? { ranking: rankingWithOutcomes(t, label) } : {}),
  };
}

function rankingWithOutcomes(t: TournamentState, label: (id: string) => string): NonNullable<TournamentView['ranking']> {
  const outcome = outcomes(t);
  return ranking(t).map((r) => {
    const { outRound, lostTo, beat } = outcome.get(r.model)!;
    return {
      ...r,
      label: label(r.model),
      ...(outRound !== undefined ? { outRound, lostTo: label(lostTo!) } : {}),
      beat: beat.map(label),
    };
  });
}
