import type { BattleView, SeqEvent } from '../../src/lib/shared/protocol.js';
import { applyEvents } from '../../src/lib/client/battle-state.js';
import { call, type ArenaClient } from './arena.js';

/**
 * One battle followed the way the UI follows it (src/lib/client/arena.svelte.ts, watch.svelte.ts):
 * frames applied by seq, a gap fetched (owner: battle:resume, spectator: watch:join again), a
 * `battle:reset` replacing the view. Also records, per seq, every distinct event content received
 * since the last reset: two contents for one seq means two writers.
 */
export function followLikeUi(client: ArenaClient, initial: BattleView, access: { owner: true } | { token: string }) {
  const battleId = initial.id;
  const state = { view: initial, resets: 0, gaps: 0, conflicts: [] as number[], frames: 0 };
  let seen = new Map<number, string>();
  let catchingUp = false;
  /** Spectator: frames that arrive while a join is pending, applied on top of its view (as the UI does). */
  let held: SeqEvent[] | undefined;
  const note = (events: SeqEvent[]) => {
    for (const e of events) {
      const json = JSON.stringify(e);
      const before = seen.get(e.seq);
      if (before !== undefined && before !== json) state.conflicts.push(e.seq);
      seen.set(e.seq, json);
    }
  };
  const catchUp = async () => {
    if (catchingUp) return;
    catchingUp = true;
    state.gaps++;
    try {
      if ('owner' in access) {
        const res = await call(client, 'battle:resume', { battleId, afterSeq: state.view.seq });
        if (!res.ok) return;
        if (res.battle) state.view = res.battle;
        else apply(res.events);
      } else {
        held = [];
        const res = await call(client, 'watch:join', { battleId, token: access.token });
        const during = held;
        held = undefined;
        if (res.ok) state.view = res.battle;
        catchingUp = false;
        apply(during);
      }
    } catch {
      // The connection closed meanwhile (the test is over): nothing to catch up.
    } finally {
      catchingUp = false;
      held = undefined;
    }
  };
  const apply = (events: SeqEvent[]) => {
    note(events);
    const { view, missingSeq } = applyEvents(state.view, events);
    state.view = view;
    if (missingSeq !== undefined) void catchUp();
  };
  client.on('battle:events', (frame) => {
    if (frame.battleId !== battleId) return;
    state.frames++;
    if (held) held.push(...frame.events);
    else apply(frame.events);
  });
  client.on('battle:reset', ({ battleId: id, battle }) => {
    if (id !== battleId) return;
    state.resets++;
    seen = new Map();
    state.view = battle;
  });
  return {
    state,
    /** Events received before the follower was attached (frames that raced the ack). */
    apply,
    settled: () => {
      const last = state.view.turns.at(-1);
      return Boolean(last && (['left', 'right'] as const).every((s) => ['done', 'stopped', 'error'].includes(last.answers[s].status)));
    },
  };
}
