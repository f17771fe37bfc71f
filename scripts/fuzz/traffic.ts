/**
 * A fuzz run's traffic (scripts/fuzz.ts): the connections, sending a planned event (emit with or
 * without an ack, raw frames, floods, hostile handshakes), filling in learnt battle ids, and
 * recording each reply into the run's state.
 */
import { io as connect, type Socket } from 'socket.io-client';
import { Rng } from '../../server/random.js';
import { checkAck, connected, full, preview, sleep, type Finding } from './checks.js';
import { ID_ALPHABET, KNOWN_EVENTS, type KnownEvent } from './generators.js';
import type { KnownBattle, Planned } from './plan.js';
import { fillIds, type FuzzState, type Slot, type TrafficOptions } from './state.js';

export function createTraffic(opts: TrafficOptions, s: FuzzState) {
  const { ackTimeoutMs, maxInFlight, alive } = opts;
  // Choices made at send time (learnt ids, flood contents) draw from a generator of their own,
  // so they never shift the plan.
  const live = new Rng(opts.seed ^ 0x2545f491);
  const battles: KnownBattle[] = [];
  const idle: (() => void)[] = [];
  const lastEvents = () =>
    `the last events sent: ${s.recent.map((e) => `#${e.index} ${e.kind}/${e.variant} ${e.event}`).join(', ')}; ` +
    `the last side connections: ${s.recentSide.map((e) => `#${e.index} ${e.kind}/${e.variant}${e.handshake?.headers ? ` headers ${JSON.stringify(e.handshake.headers).slice(0, 120)}` : ''}`).join(', ')}`;
  const finding = (f: Finding) => {
    if (s.findings.length < 5_000) s.findings.push(f);
  };
  const describe = (ev: Planned) => ({ index: ev.index, kind: ev.kind, variant: ev.variant, event: ev.event, payload: preview(ev.raw ? ev.raw.frames.map((f) => (typeof f === 'string' ? f : `<binary ${f.length}>`)) : ev.args, 600) });

  const sessionRng = new Rng(opts.seed ^ 0x5eed);
  const slots: Slot[] = Array.from({ length: opts.connections }, (_, index) => ({
    index,
    session: sessionRng.chars(43, ID_ALPHABET),
    pending: new Set(),
  }));

  function open(slot: Slot): Promise<Socket | undefined> {
    if (slot.socket?.connected) return Promise.resolve(slot.socket);
    slot.connecting ??= (async () => {
      for (let attempt = 0; attempt < 20 && !s.crashed; attempt++) {
        if (!alive()) {
          s.crashed = true;
          break;
        }
        const socket = connect(opts.url, { transports: ['websocket'], auth: { session: slot.session }, reconnection: false, forceNew: true, timeout: 10_000 });
        const result = await connected(socket);
        if (!result) {
          s.conn.opened++;
          watchSocket(slot, socket);
          slot.socket = socket;
          return socket;
        }
        socket.close();
        s.conn.connectErrors[result.message] = (s.conn.connectErrors[result.message] ?? 0) + 1;
        await sleep(Math.min(5_000, 100 * 2 ** attempt));
      }
      return undefined;
    })().finally(() => (slot.connecting = undefined));
    return slot.connecting;
  }

  function watchSocket(slot: Slot, socket: Socket) {
    socket.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') s.conn.closedByServer++;
      for (const done of [...slot.pending]) done('closed');
      slot.pending.clear();
      if (slot.socket === socket) slot.socket = undefined;
    });
  }

  /** Raw frames go over a connection of their own: they may leave it in any state. */
  async function rawSend(ev: Planned) {
    const raw = ev.raw!;
    const socket = connect(opts.url, { transports: ['websocket'], auth: { session: live.chars(43, ID_ALPHABET) }, reconnection: false, forceNew: true, timeout: 10_000 });
    const err = await connected(socket);
    if (err) {
      s.conn.connectErrors[err.message] = (s.conn.connectErrors[err.message] ?? 0) + 1;
      socket.close();
      return;
    }
    s.conn.opened++;
    s.sent++;
    let closedByServer = false;
    // The ack to a raw packet is a packet socket.io-client does not expect: read it off the engine.
    const reply = new Promise<string | undefined>((resolve) => {
      socket.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect') (closedByServer = true), s.conn.closedByServer++;
        resolve(undefined);
      });
      socket.io.engine.on('packet', (packet: { type: string; data?: unknown }) => {
        if (raw.ackId === undefined || packet.type !== 'message' || typeof packet.data !== 'string') return;
        const match = /^3(\d+)([\s\S]*)$/.exec(packet.data);
        if (match && Number(match[1]) === raw.ackId) resolve(match[2]);
      });
      setTimeout(() => resolve(undefined), raw.ackId === undefined ? 300 : Math.min(ackTimeoutMs, 3_000));
    });
    try {
      for (const frame of raw.frames) {
        if (raw.engineLevel) (socket.io.engine.transport as unknown as { ws?: { send(d: string | Buffer): void } }).ws?.send(frame);
        else socket.io.engine.send(frame as string);
      }
    } catch {
      s.unencodable++;
    }
    const body = await reply;
    socket.close();
    if (body === undefined) {
      if (raw.ackId !== undefined) closedByServer ? s.acks.unansweredAfterClose++ : s.acks.silentAsExpected++;
      return;
    }
    let res: unknown;
    try {
      res = (JSON.parse(body) as unknown[])[0];
    } catch {
      return finding({ type: 'malformed_ack', detail: `raw ack is not JSON: ${preview(body)}`, ...describe(ev) });
    }
    const event = /^\d*\d+\["([^"]*)"/.exec(String(raw.frames[0]).slice(1))?.[1] ?? '(raw)';
    recordAck(ev, event, res);
  }

  function recordAck(ev: Planned, event: string, res: unknown) {
    if (ev.expect === 'silent') {
      s.acks.unexpectedReplies++;
      finding({ type: 'unexpected_reply', detail: `a reply to an event that should be dropped: ${preview(res)}`, ...describe(ev) });
      return;
    }
    // Past maxHttpBufferSize the connection must be closed, not answered.
    if (ev.kind === 'hugeString' && ev.expect === 'mayClose')
      finding({ type: 'size_limit', detail: `a packet over maxHttpBufferSize (256 KiB) was answered: ${preview(res)}`, ...describe(ev) });
    const check = checkAck(event, res);
    if (check.ok) s.acks.ok++;
    else if (check.code) s.acks.errors[check.code] = (s.acks.errors[check.code] ?? 0) + 1;
    if (check.problem) finding({ type: check.problem, detail: check.detail ?? '', ...describe(ev), ...(check.problem === 'internal_error' ? { fullPayload: full(ev.args) } : {}) });
    if (check.ok) learn(event, res as Record<string, unknown>, ev);
  }

  function learn(event: string, res: Record<string, unknown>, ev: Planned) {
    if (event !== 'battle:start' && event !== 'battle:next') return;
    const battle = res.battle as { id: string; sharePath?: string };
    const token = battle.sharePath ? new URL(battle.sharePath, 'http://x').searchParams.get('t') : null;
    battles.push({ id: battle.id, token: token ?? '', slot: slotOf(ev) });
    if (battles.length > 64) battles.shift();
  }

  const slotFor = new Map<number, number>();
  const slotOf = (ev: Planned) => slotFor.get(ev.index) ?? 0;

  function settleOne() {
    s.inFlight--;
    idle.shift()?.();
  }

  async function waitForRoom() {
    while (s.inFlight >= maxInFlight && !s.crashed) await new Promise<void>((r) => idle.push(r));
  }

  async function waitForAll(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (s.inFlight > 0 && Date.now() < deadline && !s.crashed) await sleep(20);
  }

  /** Emits with an ack; resolves when it is answered, the socket closes, or the timeout passes. */
  function emitWithAck(slot: Slot, socket: Socket, ev: Planned, event: string, args: unknown[]) {
    // Events expected to go unanswered wait on their own timers, outside the in-flight budget.
    const counted = ev.expect !== 'silent';
    if (counted) s.inFlight++;
    let done = false;
    const finish = (outcome: 'ack' | 'closed' | 'timeout', res?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      slot.pending.delete(onClose);
      if (counted) settleOne();
      if (outcome === 'ack') return recordAck(ev, event, res);
      if (outcome === 'closed') return void s.acks.unansweredAfterClose++;
      if (ev.expect === 'silent') return void s.acks.silentAsExpected++;
      if (ev.expect === 'mayClose') return void s.acks.unansweredAfterClose++;
      if (!KNOWN_EVENTS.includes(event as KnownEvent)) return void s.acks.silentAsExpected++;
      finding({ type: 'unanswered', detail: `no ack within ${ackTimeoutMs} ms on a live connection`, ...describe(ev), fullPayload: full(args) });
    };
    const onClose = () => finish('closed');
    slot.pending.add(onClose);
    const timer = setTimeout(() => finish('timeout'), ev.expect === 'silent' ? Math.min(ackTimeoutMs, 1_500) : ackTimeoutMs);
    try {
      socket.emit(event, ...args, (res: unknown) => finish('ack', res));
    } catch {
      // socket.io-client itself cannot encode it (e.g. a Buffer as an object's prototype): not sent.
      s.unencodable++;
      done = true;
      clearTimeout(timer);
      slot.pending.delete(onClose);
      if (counted) settleOne();
    }
  }

  async function send(ev: Planned) {
    s.byKind[ev.kind] = (s.byKind[ev.kind] ?? 0) + 1;
    const ring = ev.kind === 'handshake' || ev.raw ? s.recentSide : s.recent;
    ring.push(ev);
    if (ring.length > 20) ring.shift();

    if (ev.kind === 'handshake') return handshake(ev);
    if (ev.raw) return rawSend(ev);
    const slotIndex = ev.kind === 'flood' ? live.int(0, slots.length - 1) : ev.index % slots.length;
    slotFor.set(ev.index, slotIndex);
    if (slotFor.size > 10_000) slotFor.delete(slotFor.keys().next().value!);
    const slot = slots[slotIndex]!;
    const socket = await open(slot);
    if (!socket) return;
    s.sent++;

    if (ev.kind === 'flood') return flood(slot, socket, ev);
    fillIds(ev, slot.index, battles, live);
    if (!ev.ack) {
      try {
        socket.emit(ev.event, ...ev.args);
        s.acks.silentAsExpected++;
      } catch {
        s.unencodable++;
      }
      return;
    }
    emitWithAck(slot, socket, ev, ev.event, ev.args);
  }

  /** Many events back to back on one socket, acks awaited together. */
  function flood(slot: Slot, socket: Socket, ev: Planned) {
    const count = live.int(100, 400);
    s.byKind.flood = (s.byKind.flood ?? 0) + count - 1;
    s.sent += count - 1;
    for (let i = 0; i < count; i++) {
      const roll = live.next();
      const sub: Planned = { ...ev, variant: `flood-${i}` };
      if (roll < 0.6) emitWithAck(slot, socket, { ...sub, event: 'session:state' }, 'session:state', [{}]);
      else if (roll < 0.8) emitWithAck(slot, socket, { ...sub, event: 'battle:resume' }, 'battle:resume', [{ battleId: 'nope', afterSeq: -1 }]);
      else if (roll < 0.9) socket.emit('session:state', {});
      else socket.emit('flood:unknown', i);
    }
  }

  async function handshake(ev: Planned) {
    const h = ev.handshake!;
    const stats = (s.handshakes[ev.variant] ??= { connected: 0, refused: 0 });
    const socket = connect(opts.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 5_000,
      ...(h.auth !== undefined ? { auth: h.auth as Record<string, unknown> } : {}),
      ...(h.headers ? { extraHeaders: h.headers } : {}),
    });
    s.sent++;
    const err = await connected(socket, 5_000);
    const outcome = err ? 'refused' : 'connected';
    // A refusal must be an answer (connect_error, or a refused upgrade), not a handshake left hanging.
    if (err?.message === 'connect timeout' && alive())
      finding({ type: 'handshake', detail: `handshake ${ev.variant} got no answer within 5 s (neither accepted nor refused)`, ...describe(ev) });
    stats[outcome]++;
    if (outcome === 'connected') {
      // A connection must work like any other: a request gets a typed answer.
      const res = await socket.timeout(5_000).emitWithAck('session:state', {}).catch(() => undefined);
      if (res) recordAck(ev, 'session:state', res);
    }
    socket.close();
    if (h.shouldConnect !== null && (outcome === 'connected') !== h.shouldConnect)
      finding({ type: 'handshake', detail: `handshake ${ev.variant} was ${outcome}, expected ${h.shouldConnect ? 'connected' : 'refused'}`, ...describe(ev) });
  }


  return { send, waitForRoom, waitForAll, finding, describe, lastEvents, closeAll: () => slots.forEach((slot) => slot.socket?.close()) };
}
