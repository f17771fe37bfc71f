import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../server/sim/index.js';
import { call, ok, recordFrames, startTestArena, TEST_MODELS, type TestArena } from '../helpers/arena.js';

const WITH_TOOLS = [...TEST_MODELS.slice(0, 2), { ...TEST_MODELS[2], capabilities: ['completion', 'tools'] as ('completion' | 'tools')[] }];

describe('the hybrid router and the tools path', () => {
  let t: TestArena;
  beforeAll(async () => {
    t = await startTestArena({ models: WITH_TOOLS, config: { limits: { battlesPerMinute: 100 } } });
  });
  afterAll(() => t.close());

  it('sends a calculation to the tool-calling model and streams the call, the result and the answer', async () => {
    const client = await t.client();
    const { info } = await ok(client, 'session:state', {});
    expect(info.tools).toMatchObject({ enabled: true, model: 'mdl-cinder:3b' });
    const rec = recordFrames(client);
    const { battle } = await ok(client, 'battle:start', { prompt: 'What is 12 * (3 + 4)?' });
    expect(battle.mode).toBe('tools');
    expect(battle.route).toMatchObject({ route: 'tools', layer: 'rules' });
    expect(battle.toolModel).toBe('mdl-cinder:3b');
    await rec.until(() => rec.events(battle.id).some((e) => e.t === 'end'));
    const events = rec.events(battle.id);
    const callEvent = events.find((e) => e.t === 'tool-call');
    const result = events.find((e) => e.t === 'tool-result');
    expect(callEvent).toMatchObject({ name: 'calculator', arguments: { expression: expect.stringContaining('12') } });
    expect(result).toMatchObject({ ok: true });
    expect(JSON.stringify(result)).toContain('84');
    expect(events.indexOf(callEvent!)).toBeLessThan(events.indexOf(result!));
    expect(rec.text(battle.id, 'left')).toContain('84');
    expect(events.find((e) => e.t === 'end')).toMatchObject({ side: 'left', status: 'done' });
    expect(await call(client, 'battle:vote', { battleId: battle.id, choice: 'left' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('bounds the tool-call arguments the owner and spectators receive, while the tool gets them all', async () => {
    const owner = await t.client();
    const ownerRec = recordFrames(owner);
    const note = 'x'.repeat(6_500);
    const { battle } = await ok(owner, 'battle:start', { prompt: `/tools Add it up [[tool:calculator {"expression":"40+2","note":"${note}"}]]` });
    const [, battleId, token] = battle.sharePath!.match(/^\/watch\/([^?]+)\?t=(.+)$/)!;
    const spectator = await t.client();
    const spectatorRec = recordFrames(spectator);
    await ok(spectator, 'watch:join', { battleId: battleId!, token: token! });
    await ownerRec.until(() => ownerRec.events(battle.id).some((e) => e.t === 'end'));
    const ownerCall = ownerRec.events(battle.id).find((e) => e.t === 'tool-call');
    expect(ownerCall).toMatchObject({ name: 'calculator', arguments: { truncated: true, totalChars: expect.any(Number), preview: expect.stringMatching(/^\{"expression":"40\+2","note":"x+…$/) } });
    const args = (ownerCall as unknown as { arguments: { totalChars: number; preview: string } }).arguments;
    expect(args.totalChars).toBeGreaterThan(6_500);
    expect(args.preview.length).toBeLessThanOrEqual(2_000);
    // The tool itself ran on the full arguments.
    expect(ownerRec.events(battle.id).find((e) => e.t === 'tool-result')).toMatchObject({ ok: true, result: { result: 42 } });
    // A spectator who joins later reads the same bounded call from the battle's record.
    const watched = await ok(spectator, 'watch:join', { battleId: battleId!, token: token! });
    const stored = watched.battle.turns[0]!.answers.left.tools![0]!;
    expect(stored.arguments).toMatchObject({ truncated: true });
    expect(JSON.stringify(stored.arguments).length).toBeLessThan(2_200);
    // Every tool-call event on the wire, to the owner and to the spectator, is small.
    const wired = [ownerRec, spectatorRec].flatMap((rec) => rec.events(battle.id).filter((e) => e.t === 'tool-call'));
    expect(wired.length).toBeGreaterThanOrEqual(1);
    for (const event of wired) expect(JSON.stringify(event).length).toBeLessThan(2_200);
  });

  it('sends a general question to a blind duel, with the reason, and honours the override', async () => {
    const client = await t.client();
    const general = await ok(client, 'battle:start', { prompt: 'Write a short poem about autumn leaves.' });
    expect(general.battle.mode).toBe('arena');
    expect(general.battle.route?.route).toBe('arena');
    expect(general.battle.route?.reason.length).toBeGreaterThan(0);
    expect(general.battle.toolModel).toBeUndefined();

    const forcedDuel = await ok(client, 'battle:start', { prompt: '/arena What is 2 + 2?' });
    expect(forcedDuel.battle).toMatchObject({ mode: 'arena', route: { route: 'arena', layer: 'explicit' } });
    expect(forcedDuel.battle.turns[0].prompt).toBe('What is 2 + 2?');

    const forcedTools = await ok(client, 'battle:start', { prompt: 'Tell me about autumn.', route: 'tools' });
    expect(forcedTools.battle).toMatchObject({ mode: 'tools', route: { route: 'tools', layer: 'explicit' } });
  });
});

describe('the tools path without a tool-capable model', () => {
  it('is off, says so, and routes tool questions to the arena with the reason', async () => {
    const t = await startTestArena();
    try {
      const client = await t.client();
      const { info } = await ok(client, 'session:state', {});
      expect(info.tools.enabled).toBe(false);
      expect(info.tools.reason).toMatch(/no tool-capable model/i);
      const { battle } = await ok(client, 'battle:start', { prompt: 'What is 12 * (3 + 4)?' });
      expect(battle.mode).toBe('arena');
      expect(battle.route).toMatchObject({ route: 'tools', toolsUnavailable: expect.stringMatching(/OPENAI_API_KEY/) });
    } finally {
      await t.close();
    }
  });
});

describe('a configured tools backend (OpenAI-compatible)', () => {
  let vllm: Simulator;
  afterAll(() => vllm?.close());

  it('runs the tool loop through the configured backend and model', async () => {
    vllm = await startSimulator({ flavor: 'vllm', models: [{ name: 'tool-sim', capabilities: ['completion', 'tools'], tokensPerSecond: 400 }] });
    const t = await startTestArena({
      extraBackends: [{ id: 'toolsrv', kind: 'vllm', url: vllm.url }],
      config: { tools: { backend: 'toolsrv', model: 'tool-sim' }, models: [] },
    });
    try {
      const client = await t.client();
      const rec = recordFrames(client);
      const { battle } = await ok(client, 'battle:start', { prompt: 'Compute 2^10 + 1' });
      expect(battle.toolModel).toBe('toolsrv/tool-sim');
      await rec.until(() => rec.events(battle.id).some((e) => e.t === 'end'));
      expect(rec.text(battle.id, 'left')).toContain('1025');
    } finally {
      await t.close();
    }
  });
});

describe('a tools backend that is down', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  it('sends tools prompts to a duel of two healthy models, with a plain notice', async () => {
    // A real tools server, then killed: its port refuses connections.
    const dead = await startSimulator({ flavor: 'vllm', models: [{ name: 'tool-sim', capabilities: ['completion', 'tools'] }] });
    await dead.close();
    const t = await startTestArena({ extraBackends: [{ id: 'toolsrv', kind: 'vllm', url: dead.url }], config: { tools: { backend: 'toolsrv', model: 'tool-sim' } } });
    try {
      const client = await t.client();
      const rec = recordFrames(client);
      const { battle } = await ok(client, 'battle:start', { prompt: 'What is 12 * (3 + 4)?' });
      expect(battle.mode).toBe('arena');
      expect(battle.route).toMatchObject({ route: 'tools', layer: 'rules', toolsUnavailable: 'The tool-calling model is not answering right now, so two models answer instead.' });
      expect(battle.toolModel).toBeUndefined();
      await rec.until(() => rec.events(battle.id).filter((e) => e.t === 'end').length === 2);
      const ends = rec.events(battle.id).filter((e) => e.t === 'end');
      expect(ends.map((e) => (e as { status: string }).status)).toEqual(['done', 'done']);
      expect(rec.text(battle.id, 'left').length).toBeGreaterThan(0);
      expect(rec.text(battle.id, 'right').length).toBeGreaterThan(0);
      expect(await ok(client, 'battle:vote', { battleId: battle.id, choice: 'left' })).toHaveProperty('reveal');
      // The next one too, without waiting: the failed probe is remembered.
      const again = await ok(client, 'battle:start', { prompt: 'convert 5 miles to km' });
      expect(again.battle).toMatchObject({ mode: 'arena', route: { toolsUnavailable: expect.stringMatching(/not answering/) } });
    } finally {
      await t.close();
    }
  });
});
