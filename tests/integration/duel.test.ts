import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatedAnswer } from '../../server/sim/index.js';
import { call, ok, recordFrames, startTestArena, TEST_MODELS, type TestArena } from '../helpers/arena.js';

const spec = (name: string) => TEST_MODELS.find((m) => m.name === name)!;
const identities = TEST_MODELS.flatMap((m) => [m.name, m.family!, m.name.split(':')[0]]);

describe('the duel over Socket.IO', () => {
  let t: TestArena;
  beforeAll(async () => {
    // Public export is an explicit opt-in (the default needs the admin token): the export test reads it.
    t = await startTestArena({ config: { limits: { battlesPerMinute: 100 }, exportAccess: 'public' } });
  });
  afterAll(() => t.close());

  it('streams both answers live, blind, and reveals names only after a durable vote', async () => {
    const client = await t.client();
    const rec = recordFrames(client);
    const acks: unknown[] = [];
    const { battle } = await ok(client, 'battle:start', { prompt: 'Explain tides to a child.' });
    acks.push(battle);
    await rec.settled(battle.id);

    // Blind: nothing received so far (frames and acks) names a model, family, backend or URL.
    const seenBeforeVote = JSON.stringify([rec.raw, acks]);
    for (const word of [...identities, t.sim.url, 'sim/', 'deployment', 'ttftMs', 'tokensPerSecond'])
      expect(seenBeforeVote).not.toContain(word);
    expect(rec.frames.length).toBeGreaterThan(2); // streamed in several frames, not one dump

    const vote = await ok(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
    const stored = await t.arena.store.listVotes();
    expect(stored.map((v) => v.battleId)).toContain(battle.id);
    expect(new Set([vote.reveal.left.model, vote.reveal.right.model]).size).toBe(2);
    expect(vote.reveal.left.deployment).toBe(`sim/${vote.reveal.left.model}`);
    expect(vote.reveal.left.tokensPerSecond).toBeGreaterThan(0);

    // The streamed text is exactly what each model produced for this conversation.
    for (const side of ['left', 'right'] as const) {
      const expected = simulatedAnswer(spec(vote.reveal[side].model), [{ role: 'user', content: 'Explain tides to a child.' }]);
      expect(rec.text(battle.id, side)).toBe(expected.text);
    }
    // Sequence numbers are gapless and ordered.
    const seqs = rec.events(battle.id).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it('refuses a vote before both sides finish, and a second vote', async () => {
    const slow = await startTestArena({ models: TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 20, maxTokens: 40 })) });
    try {
      const client = await slow.client();
      const rec = recordFrames(client);
      const { battle } = await ok(client, 'battle:start', { prompt: 'Write a haiku about rain.' });
      const early = await call(client, 'battle:vote', { battleId: battle.id, choice: 'tie' });
      expect(early).toMatchObject({ ok: false, error: { code: 'conflict' } });
      await ok(client, 'battle:stop', { battleId: battle.id });
      await rec.settled(battle.id);
      expect(rec.events(battle.id).filter((e) => e.t === 'end').map((e) => e.t === 'end' && e.status)).toEqual(['stopped', 'stopped']);
      await ok(client, 'battle:vote', { battleId: battle.id, choice: 'bothbad' });
      const again = await call(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
      expect(again).toMatchObject({ ok: false, error: { code: 'conflict' } });
      expect((await slow.arena.store.listVotes()).length).toBe(1);
    } finally {
      await slow.close();
    }
  });

  it('stop cancels the upstream requests at once', async () => {
    const slow = await startTestArena({ models: TEST_MODELS.map((m) => ({ ...m, tokensPerSecond: 10, maxTokens: 60 })) });
    try {
      const client = await slow.client();
      const rec = recordFrames(client);
      const closed: number[] = [];
      slow.sim.events.on('stream-end', (e: { reason: string; at: number }) => e.reason === 'client_closed' && closed.push(Date.now()));
      const { battle } = await ok(client, 'battle:start', { prompt: 'Tell a long story.' });
      await rec.until(() => rec.events(battle.id).filter((e) => e.t === 'delta').length >= 2);
      await ok(client, 'battle:stop', { battleId: battle.id, side: 'left' });
      const stoppedAt = Date.now();
      await rec.until(() => rec.events(battle.id).some((e) => e.t === 'end' && e.side === 'left'));
      await rec.until(() => closed.length >= 1, 2_000);
      expect(closed[0] - stoppedAt).toBeLessThan(200);
      expect(rec.events(battle.id).find((e) => e.t === 'end' && e.side === 'left')).toMatchObject({ status: 'stopped' });
      // The right side keeps streaming.
      expect(rec.events(battle.id).some((e) => e.t === 'end' && e.side === 'right')).toBe(false);
      await ok(client, 'battle:stop', { battleId: battle.id });
      await rec.settled(battle.id);
    } finally {
      await slow.close();
    }
  });

  it('keeps an independent history per side for follow-ups, and regenerates the last turn', async () => {
    const client = await t.client();
    const rec = recordFrames(client);
    const { battle } = await ok(client, 'battle:start', { prompt: 'Name a colour.' });
    await rec.settled(battle.id, 0);
    await ok(client, 'battle:send', { battleId: battle.id, prompt: 'Now a fruit of that colour.' });
    await rec.settled(battle.id, 1);
    await ok(client, 'battle:regenerate', { battleId: battle.id });
    await rec.settled(battle.id, 1);
    const { reveal } = await ok(client, 'battle:vote', { battleId: battle.id, choice: 'tie' });
    for (const side of ['left', 'right'] as const) {
      const first = rec.text(battle.id, side, 0);
      const history = [
        { role: 'user', content: 'Name a colour.' },
        { role: 'assistant', content: first },
        { role: 'user', content: 'Now a fruit of that colour.' },
      ];
      expect(rec.text(battle.id, side, 1)).toBe(simulatedAnswer(spec(reveal[side].model), history).text);
    }
    const refused = await call(client, 'battle:send', { battleId: battle.id, prompt: 'more' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('"Next >" cycles through every pair exactly once for the same prompt', async () => {
    const client = await t.client();
    const rec = recordFrames(client);
    const pairs: string[] = [];
    let { battle } = await ok(client, 'battle:start', { prompt: 'Cycle me.' });
    for (let i = 0; i < 6; i++) {
      await rec.settled(battle.id);
      const { reveal } = await ok(client, 'battle:vote', { battleId: battle.id, choice: 'tie' });
      pairs.push([reveal.left.model, reveal.right.model].sort().join('|'));
      if (i < 5) ({ battle } = await ok(client, 'battle:next', { battleId: battle.id }));
      expect(battle.turns[0].prompt).toBe('Cycle me.');
    }
    expect(new Set(pairs).size).toBe(6); // C(4,2): all pairs, none twice
  });

  it('runs a tournament of 4 models in 3 rounds, winner staying, with a final ranking', async () => {
    const client = await t.client();
    const rec = recordFrames(client);
    let { battle } = await ok(client, 'battle:start', { prompt: 'Best pun?', mode: 'tournament' });
    expect(battle.mode).toBe('tournament');
    const winners: string[] = [];
    let final;
    for (let round = 1; round <= 3; round++) {
      await rec.settled(battle.id);
      const vote = await ok(client, 'battle:vote', { battleId: battle.id, choice: round === 2 ? 'tie' : 'left' });
      expect(vote.tournament).toMatchObject({ round, rounds: 3, done: round === 3 });
      if (round > 1) {
        // The champion of the previous round is in this one.
        expect([vote.reveal.left.model, vote.reveal.right.model]).toContain(winners.at(-1));
      }
      winners.push(round === 2 ? winners.at(-1)! : vote.reveal.left.model);
      final = vote.tournament;
      if (round < 3) ({ battle } = await ok(client, 'battle:next', { battleId: battle.id }));
    }
    expect(final!.ranking!.map((r) => r.model)[0]).toBe(winners.at(-1));
    expect(final!.ranking).toHaveLength(4);
    const over = await call(client, 'battle:next', { battleId: battle.id });
    expect(over).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('flags an identity leak live, stores the vote flagged and excludes it', async () => {
    const client = await t.client();
    const rec = recordFrames(client);
    const { battle } = await ok(client, 'battle:start', { prompt: 'Who are you?' });
    await rec.settled(battle.id);
    expect(rec.events(battle.id).filter((e) => e.t === 'leak').length).toBe(2);
    await ok(client, 'battle:vote', { battleId: battle.id, choice: 'left' });
    const vote = (await t.arena.store.listVotes()).find((v) => v.battleId === battle.id);
    expect(vote?.excluded).toBe(true);
  });

  it('isolates sessions: no frame of one session reaches another, and no action crosses', async () => {
    const a = await t.client();
    const b = await t.client();
    const recA = recordFrames(a);
    const recB = recordFrames(b);
    const [{ battle: ba }, { battle: bb }] = await Promise.all([
      ok(a, 'battle:start', { prompt: 'Session A prompt' }),
      ok(b, 'battle:start', { prompt: 'Session B prompt' }),
    ]);
    await Promise.all([recA.settled(ba.id), recB.settled(bb.id)]);
    expect(recA.frames.every((f) => f.battleId === ba.id)).toBe(true);
    expect(recB.frames.every((f) => f.battleId === bb.id)).toBe(true);
    for (const [event, payload] of [
      ['battle:vote', { battleId: ba.id, choice: 'left' }],
      ['battle:stop', { battleId: ba.id }],
      ['battle:resume', { battleId: ba.id, afterSeq: 0 }],
      ['battle:next', { battleId: ba.id }],
    ] as const) {
      expect(await call(b, event, payload as never)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
  });

  it('restores the conversation on reload (same session, new connection); a settled battle resumes as a full view', async () => {
    const session = 'S'.repeat(43);
    const first = await t.client(session);
    const rec = recordFrames(first);
    const { battle } = await ok(first, 'battle:start', { prompt: 'Remember me.' });
    await rec.settled(battle.id);
    first.close();
    const again = await t.client(session);
    const state = await ok(again, 'session:state', {});
    expect(state.battle?.id).toBe(battle.id);
    expect(state.battle?.turns[0].answers.left.text).toBe(rec.text(battle.id, 'left'));
    expect(state.battle?.seq).toBe(rec.events(battle.id).at(-1)!.seq);
    // A settled battle keeps no event log: its record is the whole story.
    const resumed = await ok(again, 'battle:resume', { battleId: battle.id, afterSeq: 2 });
    expect(resumed.events).toEqual([]);
    expect(resumed.battle).toEqual(state.battle);
    const upToDate = await ok(again, 'battle:resume', { battleId: battle.id, afterSeq: state.battle!.seq });
    expect(upToDate).toEqual({ ok: true, events: [] });
  });

  it('answers bad input with typed errors and enforces limits', async () => {
    const client = await t.client();
    expect(await call(client, 'battle:start', { prompt: '' })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call(client, 'battle:start', { prompt: 42 } as never)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call(client, 'battle:vote', { battleId: 'x', choice: 'maybe' } as never)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await call(client, 'battle:start', { prompt: 'x'.repeat(9_000) })).toMatchObject({ ok: false, error: { code: 'limit' } });
    expect(await call(client, 'battle:vote', { battleId: 'nope', choice: 'left' })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('exports voted battles in FastChat format (public export opted in, and the page is told)', async () => {
    expect((await ok(await t.client(), 'session:state', {})).info.publicExport).toBe(true);
    const res = await fetch(`${t.url}/api/export/battles.jsonl`);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(['model_a', 'model_b', 'tie', 'tie (bothbad)']).toContain(line.winner);
      expect(line).toHaveProperty('conversation_a');
      expect(line.anony).toBe(true);
    }
  });
});
