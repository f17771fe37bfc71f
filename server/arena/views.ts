import { timingSafeEqual } from 'node:crypto';
import type { BattleView, TournamentView } from '../../src/lib/shared/protocol.js';
import type { BattleRecord, SessionRecord, Store } from '../store/types.js';
import type { ArenaModels, Caller } from './deps.js';
import { fail } from './errors.js';
import { buildReveal, toView } from './record.js';
import { tournamentView } from './tournament.js';

/** The one answer for an unknown id and for another session's battle. */
export const NO_SUCH_BATTLE = 'No such battle.';

/** What a client sees of a battle: the owner's view or a spectator's, with the reveal after the vote. */
export function battleView(models: ArenaModels, record: BattleRecord, seq: number, owner: boolean, session?: SessionRecord): BattleView {
  const reveal = record.vote ? buildReveal(record, (m) => models.describe(m)) : undefined;
  const view = toView(record, seq, reveal, owner);
  const t = session?.tournament;
  if (record.mode === 'tournament' && t && t.id === record.groupId) view.tournament = tournamentOf(models, t);
  return view;
}

export function tournamentOf(models: ArenaModels, t: NonNullable<SessionRecord['tournament']>): TournamentView {
  return tournamentView(t, (m) => models.describe(m).label);
}

/** The stored session, or a new one. */
export async function loadSession(store: Store, hash: string): Promise<SessionRecord> {
  return (await store.getSession(hash)) ?? { hash, createdAt: Date.now(), seenPairs: {} };
}

/** Another session's battle answers exactly like an unknown id, so ids cannot be probed. */
export function checkOwner(caller: Caller, record: BattleRecord): void {
  if (record.sessionHash !== caller.sessionHash) fail('not_found', NO_SUCH_BATTLE);
}

export function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
