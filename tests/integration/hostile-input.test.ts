import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSessionToken } from '../../src/lib/server/session.js';
import { simulatedAnswer } from '../../server/sim/index.js';
import { checkAck, connected } from '../../scripts/fuzz.js';
import { call, ok, recordFrames, startTestArena, type ArenaClient, type TestArena } from '../helpers/arena.js';

/**
 * Arena relays untrusted input from anyone on the internet: each case sends one kind of hostile
 * traffic and checks the answer is a typed error (or a closed connection), that nothing leaks, and
 * that the server and everyone else carry on.
 */

/** Sends with an ack; resolves with the reply, or 'no reply' after `ms`. */
async function send(socket: Socket, event: string, ...args: unknown[]): Promise<unknown> {
  try {
    return await socket.timeout(5_000).emitWithAck(event, ...args);
  } catch {
    return 'no reply';
  }
}

async function silent(socket: Socket, event: string, payload: unknown, ms = 300): Promise<boolean> {
  try {
    await socket.timeout(ms).emitWithAck(event, payload);
    return false;
  } catch {
    return true;
  }
}

/** A well-formed typed error with this code: no stack, no path, a short message. */
function expectError(res: unknown, code: string, mentions?: RegExp) {
  const check = checkAck('(any)', res);
  expect(check.problem, `${check.problem}: ${check.detail}`).toBeUndefined();
  expect(res).toMatchObject({ ok: false, error: { code } });
  if (mentions) expect((res as { error: { message: string } }).error.message).toMatch(mentions);
}

/** The typed client, without its event typing: for events and payloads the protocol does not allow. */
const untyped = (client: ArenaClient) => client as unknown as Socket;

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('hostile input over Socket.IO', () => {
  let t: TestArena;
  const raw: Socket[] = [];
  /** A socket.io-client connection with any options; the caller checks whether it connected. */
  const open = (opts: Parameters<typeof connect>[1] = {}) => {
    const socket = connect(t.url, { transports: ['websocket'], reconnection: false, forceNew: true, ...opts });
    raw.push(socket);
    return socket;
  };

  beforeAll(async () => {
    t = await startTestArena({ config: { limits: { battlesPerMinute: 100, connectionsPerMinutePerIp: 10_000 } } });
  });
  afterAll(async () => {
    raw.forEach((s) => s.close());
    await t?.close();
  });

  // ---------------------------------------------------------------- handshake

  it('refuses a connection without a session, with a clear message', async () => {
    for (const auth of [undefined, { session: 'abc' }, { session: 42 }, { session: { $ne: null } }, { session: 'A'.repeat(44) }]) {
      const err = await connected(open(auth === undefined ? {} : { auth: auth as Record<string, unknown> }));
      expect(err?.message, JSON.stringify(auth)).toMatch(/no session/);
    }
    const client = await t.client();
    expect((await ok(client, 'session:state', {})).info.availableModels).toBeGreaterThanOrEqual(2);
  });

  it('refuses a foreign Origin at the handshake, and accepts its own', async () => {
    const session = newSessionToken();
    for (const origin of ['https://evil.example', 'null', 'http://127.0.0.1.evil.example', 'http://[::1']) {
      const err = await connected(open({ auth: { session }, extraHeaders: { origin } }));
      expect(err, origin).not.toBeNull();
    }
    const sameOrigin = open({ auth: { session }, extraHeaders: { origin: t.url } });
    expect(await connected(sameOrigin)).toBeNull();
  });

  it('refuses a malformed session cookie without dying (finding F1: URIError in readCookie crashed the process)', async () => {
    for (const cookie of ['arena_session=%E0%A4%A', 'arena_session=%', 'arena_session=%zz; other=1']) {
      const err = await connected(open({ extraHeaders: { cookie } }), 3_000);
      expect(err?.message, cookie).toMatch(/no session/);
    }
    expect(t.arena.httpServer.listening).toBe(true);
    const client = await t.client();
    expect((await call(client, 'session:state', {})).ok).toBe(true);
  });

  // ---------------------------------------------------------------- events and payloads

  it('drops unknown events: no reply, and the connection keeps working', async () => {
    const client = await t.client();
    for (const name of ['battle:delete', 'admin:reset', 'arena:forward', 'arena:votes', 'battle:events', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'error', 'Battle:Start'])
      expect(await silent(client, name, { battleId: 'x' }), name).toBe(true);
    expect(client.connected).toBe(true);
    expect((await call(client, 'session:state', {})).ok).toBe(true);
  });

  it('answers wrong types, missing and extra fields with a typed bad_request naming the field', async () => {
    const client = await t.client();
    const cases: [string, unknown, RegExp | undefined][] = [
      ['battle:start', { prompt: 42 }, /prompt/],
      ['battle:start', { prompt: ['hi'] }, /prompt/],
      ['battle:start', { prompt: { toString: 'x' } }, /prompt/],
      ['battle:start', {}, /prompt/],
      ['battle:start', null, /prompt/],
      ['battle:start', 'just a string', undefined],
      ['battle:start', [{ prompt: 'hi' }], undefined],
      ['battle:start', { prompt: '   ' }, /prompt/],
      ['battle:start', { prompt: 'hi', mode: 'cycle' }, /mode/],
      ['battle:start', { prompt: 'hi', admin: true }, /admin/],
      ['battle:vote', { battleId: 'abc' }, /choice/],
      ['battle:vote', { battleId: 'abc', choice: 'LEFT' }, /choice/],
      ['battle:vote', { battleId: '../../etc/passwd', choice: 'left' }, /battleId/],
      ['battle:vote', { battleId: 'a'.repeat(65), choice: 'left' }, /battleId/],
      ['battle:stop', { battleId: 'abc', side: 'middle' }, /side/],
      ['battle:resume', { battleId: 'abc', afterSeq: -1 }, /afterSeq/],
      ['battle:resume', { battleId: 'abc', afterSeq: 1.5 }, /afterSeq/],
      ['battle:resume', { battleId: 'abc', afterSeq: '3' }, /afterSeq/],
      ['battle:resume', { battleId: 'abc', afterSeq: NaN }, /afterSeq/], // NaN and Infinity travel as null
      ['battle:resume', { battleId: 'abc', afterSeq: Infinity }, /afterSeq/],
      ['leaderboard:subscribe', { excludeTies: 'yes' }, /excludeTies/],
      ['watch:join', { battleId: {}, token: [] }, /battleId/],
      ['watch:vote', { battleId: 'abc', token: 'def' }, /choice/],
      ['session:state', { extra: 1 }, /extra/],
      ['session:state', 7, undefined],
    ];
    for (const [event, payload, mentions] of cases) expectError(await send(client, event, payload), 'bad_request', mentions);
  });

  it('rejects __proto__ and constructor keys without polluting any prototype', async () => {
    const client = await t.client();
    const polluting = JSON.parse('{"prompt":"hi","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}');
    expectError(await send(client, 'battle:start', polluting), 'bad_request');
    expectError(await send(client, 'session:state', JSON.parse('{"__proto__":{"polluted":"yes"}}')), 'bad_request');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('applies size limits: maxPromptChars gives `limit`, the schema maximum `bad_request`', async () => {
    const client = await t.client();
    expectError(await send(client, 'battle:start', { prompt: 'x'.repeat(8_001) }), 'limit', /8001|8,001|limit/);
    expectError(await send(client, 'battle:start', { prompt: 'x'.repeat(100_001) }), 'bad_request', /prompt/);
    expectError(await send(client, 'battle:start', { prompt: 'x'.repeat(250_000) }), 'bad_request', /prompt/);
  });

  it('closes only the connection that sends more than maxHttpBufferSize (256 KiB)', async () => {
    const bystander = await t.client();
    const attacker = await t.client();
    const closed = new Promise<string>((resolve) => attacker.once('disconnect', resolve));
    attacker.emit('battle:start', { prompt: 'x'.repeat(300 * 1024) }, () => undefined);
    expect(await closed).toMatch(/transport/);
    expect(bystander.connected).toBe(true);
    expect((await call(bystander, 'session:state', {})).ok).toBe(true);
    const newcomer = await t.client();
    expect((await call(newcomer, 'session:state', {})).ok).toBe(true);
    expect(t.arena.httpServer.listening).toBe(true);
  });

  it('answers deeply nested payloads with a typed error (or closes that connection)', async () => {
    const client = await t.client();
    // As deep as socket.io-client's own JSON.stringify goes comfortably; deeper ones go raw below.
    let arrays: unknown = 'bottom';
    let objects: unknown = 'bottom';
    for (let i = 0; i < 2_000; i++) (arrays = [arrays]), (objects = { a: objects });
    expectError(await send(client, 'battle:start', { prompt: arrays }), 'bad_request', /prompt/);
    expectError(await send(client, 'session:state', { x: objects }), 'bad_request');
    expectError(await send(client, 'battle:vote', arrays), 'bad_request');

    // Deeper than a client's JSON.stringify would go: raw socket.io packets, 100,000 levels.
    const deep = open({ auth: { session: newSessionToken() } });
    expect(await connected(deep)).toBeNull();
    const reply = new Promise<string | null>((resolve) => {
      deep.io.engine.on('packet', (p: { type: string; data?: unknown }) => {
        if (p.type === 'message' && typeof p.data === 'string' && p.data.startsWith('3777')) resolve(p.data.slice(4));
      });
      deep.once('disconnect', () => resolve(null));
      setTimeout(() => resolve('timeout'), 5_000);
    });
    deep.io.engine.send(`2777["session:state",{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}]`);
    const answer = await reply;
    if (answer !== null) expectError(JSON.parse(answer)[0], 'bad_request');
    expect(answer).not.toBe('timeout');
    expect((await call(client, 'session:state', {})).ok).toBe(true);
  });

  it('keeps another client responsive while one socket floods', async () => {
    const attacker = await t.client();
    const victim = await t.client();
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < 2_000; i++) {
      const roll = i % 4;
      if (roll === 0) replies.push(send(attacker, 'session:state', {}));
      else if (roll === 1) replies.push(send(attacker, 'battle:resume', { battleId: 'nope', afterSeq: -1 }));
      else if (roll === 2) untyped(attacker).emit('no:such:event', i);
      else replies.push(send(attacker, 'battle:start', { prompt: 42 }));
    }
    // While the flood is being processed, the other client's requests come back promptly.
    const latencies: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      expect((await call(victim, 'session:state', {})).ok).toBe(true);
      latencies.push(performance.now() - started);
    }
    const answers = await Promise.all(replies);
    console.log(`flood: victim ack latency max ${Math.max(...latencies).toFixed(0)} ms over ${latencies.length} requests during a 2,000-event flood`);
    expect(latencies).toHaveLength(10);
    // Margin: the slowest ack waits for much of the flood to be refused (measured
    // 0.6–1.3 s on 2 shared cores under parallel test load); 3 s fails only when the
    // flood really starves other clients. The figure itself is what the log line above reports.
    expect(Math.max(...latencies)).toBeLessThan(3_000);
    // Every flooded request got a typed answer; the flood guard refused most of them.
    const codes = new Map<string, number>();
    for (const a of answers) {
      expect(checkAck('(any)', a).problem).toBeUndefined();
      const code = (a as { ok: boolean; error?: { code: string } }).ok ? 'ok' : (a as { error: { code: string } }).error.code;
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    expect(codes.get('rate_limited') ?? 0).toBeGreaterThan(0);
    expect(codes.has('internal')).toBe(false);
  });

  it('drops an event without an ack: no reply, no battle, no crash', async () => {
    const client = await t.client();
    const rec = recordFrames(client);
    untyped(client).emit('battle:start', { prompt: 'Sent without an ack.' });
    untyped(client).emit('battle:start', { prompt: 42 });
    untyped(client).emit('session:state', {});
    untyped(client).emit('battle:start'); // no payload at all
    // Barrier, not a sleep: the server takes one socket's events in order (each through the flood
    // limiter, then dispatch), so once this acked request is answered the four before it were handled.
    const state = await ok(client, 'session:state', {});
    expect(rec.raw).toEqual([]);
    expect(state.battle).toBeUndefined();
    // A missing payload with an ack is fine (it reads as {}); but an ack passed in place of the
    // payload is not taken for one: dispatch reads (payload, ack), so that request goes unanswered.
    expect(await silent(client, 'session:state', undefined)).toBe(false);
    expect(await new Promise((resolve) => untyped(client).timeout(300).emit('session:state', (err: unknown) => resolve(err ? 'no reply' : 'reply')))).toBe('no reply');
  });

  it('answers binary payloads with a typed error', async () => {
    const client = await t.client();
    expectError(await send(client, 'session:state', Buffer.from('binary')), 'bad_request');
    expectError(await send(client, 'battle:start', { prompt: Buffer.from('hello') }), 'bad_request', /prompt/);
    expectError(await send(client, 'battle:start', new Uint8Array(0)), 'bad_request');
  });

  it('keeps error messages short whatever the payload (finding F2: keys and bytes are echoed back)', async () => {
    const client = await t.client();
    const huge = await send(client, 'session:state', { ['k'.repeat(100_000)]: 1 });
    const bytes = await send(client, 'session:state', Buffer.alloc(20_000, 1));
    for (const res of [huge, bytes]) {
      expect(res).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      expect((res as { error: { message: string } }).error.message.length).toBeLessThanOrEqual(1_024);
    }
  });

  // ---------------------------------------------------------------- authorization

  it('keeps a battle blind: public status does not tell which models answered (finding F3)', async () => {
    // Runs before any other battle in this file, so no deployment has activity yet.
    const client = await t.client();
    // The whole public view, but for its timestamp (the full observer: blind-observer.test.ts).
    const activity = (status: unknown) => {
      const { generatedAt: _, ...rest } = (status ?? {}) as { generatedAt?: string };
      return new Map([['status', JSON.stringify(rest)]]);
    };
    const viaHttp = async () => {
      const res = await fetch(`${t.url}/api/status`);
      return activity(res.ok ? await res.json() : undefined);
    };
    const viaSocket = async () => {
      const res = await send(client, 'status:subscribe', {});
      return activity((res as { ok?: boolean; status?: unknown }).ok ? (res as { status: unknown }).status : undefined);
    };
    const before = [await viaHttp(), await viaSocket()];
    const rec = recordFrames(client);
    const { battle } = await ok(client, 'battle:start', { prompt: 'Keep me blind.' });
    const during = [await viaHttp(), await viaSocket()];
    await rec.settled(battle.id);
    const after = [await viaHttp(), await viaSocket()];
    const changed = new Set<string>();
    for (const snapshot of [...during, ...after])
      for (const [model, value] of snapshot) if (before.every((b) => b.get(model) !== value)) changed.add(model);
    // Whoever polls the public status must not learn the pair: it does not change at all.
    expect([...changed]).toEqual([]);
    expect(before[0]!.get('status')).toContain('"backends"');
    await ok(client, 'battle:vote', { battleId: battle.id, choice: 'tie' });
  });

  it('lets another session watch with the share token, and nothing more', async () => {
    const owner = await t.client();
    const rec = recordFrames(owner);
    const { battle } = await ok(owner, 'battle:start', { prompt: 'Whose battle is it?' });
    await rec.settled(battle.id);
    const token = new URL(battle.sharePath!, t.url).searchParams.get('t')!;
    const other = await t.client();

    for (const [event, payload] of [
      ['battle:vote', { battleId: battle.id, choice: 'left' }],
      ['battle:stop', { battleId: battle.id }],
      ['battle:send', { battleId: battle.id, prompt: 'hijack' }],
      ['battle:regenerate', { battleId: battle.id }],
      ['battle:next', { battleId: battle.id }],
      ['battle:resume', { battleId: battle.id, afterSeq: 0 }],
    ] as const) {
      const foreign = await call(other, event, payload as never);
      expectError(foreign, 'not_found');
      // Byte for byte what an id that does not exist gets: ids cannot be probed.
      const unknown = await call(other, event, { ...payload, battleId: 'Z'.repeat(battle.id.length) } as never);
      expect(JSON.stringify(foreign)).toBe(JSON.stringify(unknown));
    }

    expectError(await call(other, 'watch:join', { battleId: battle.id, token: token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A') }), 'not_found');
    expectError(await call(other, 'watch:join', { battleId: battle.id, token: battle.id }), 'not_found');
    const watched = await ok(other, 'watch:join', { battleId: battle.id, token });
    expect(watched.battle.sharePath).toBeUndefined();
    expect(JSON.stringify(watched)).not.toMatch(/mdl-|sim\//); // blind before the vote
    expectError(await call(owner, 'watch:vote', { battleId: battle.id, token, choice: 'left' }), 'forbidden');
    expect((await call(owner, 'battle:vote', { battleId: battle.id, choice: 'tie' })).ok).toBe(true);
  });

  // ---------------------------------------------------------------- hostile model output

  it('relays hostile model output byte for byte (the simulator echo directive)', async () => {
    const hostile = '<script>window.__pwned=1</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>\u0000 \uD800 🔥\r\n  trailing  ';
    const prompt = `Repeat after me [[echo:${b64(hostile)}]] <img src=x onerror=alert(2)>`;
    // The directive itself: exactly the decoded text, nothing else.
    expect(simulatedAnswer('anything', [{ role: 'user', content: prompt }])).toMatchObject({ text: hostile.replace('\uD800', '\uFFFD'), reasoning: '' });
    expect(simulatedAnswer('anything', [{ role: 'user', content: 'no directive here' }]).text).not.toBe('');

    const client: ArenaClient = await t.client();
    const rec = recordFrames(client);
    const { battle } = await ok(client, 'battle:start', { prompt });
    await rec.settled(battle.id);
    // A lone surrogate cannot survive UTF-8 (the base64 carries bytes): it arrives as U+FFFD.
    const expected = hostile.replace('\uD800', '\uFFFD');
    expect(rec.text(battle.id, 'left')).toBe(expected);
    expect(rec.text(battle.id, 'right')).toBe(expected);
    const turn = rec.events(battle.id).find((e) => e.t === 'turn');
    expect(turn).toMatchObject({ prompt });
  });
});
