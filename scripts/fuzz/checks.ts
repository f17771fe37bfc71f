/** What a fuzz run checks: every ack's shape, and a well-formed duel afterwards (scripts/fuzz.ts). */
import { io as connect, type Socket } from 'socket.io-client';
import { ERROR_CODES, ID_ALPHABET } from './generators.js';

export interface Finding {
  type:
    | 'crash'
    | 'internal_error'
    | 'malformed_ack'
    | 'stack_trace'
    | 'unanswered'
    | 'oversized_error'
    | 'size_limit'
    | 'rss_growth'
    | 'after_check'
    | 'handshake'
    | 'unexpected_reply';
  detail: string;
  index?: number;
  kind?: string;
  variant?: string;
  event?: string;
  /** The exact payload sent, truncated. */
  payload?: string;
  /** The whole payload as JSON (unanswered and internal-error findings), to replay it. */
  fullPayload?: string;
}

export const LEAKY = /\n\s+at |\bat [\w$.<>]+ \(|node_modules|file:\/\/|\/work\/|\/home\/|\.tsx?:\d+|\.m?js:\d+|(?:Type|Reference|Range|Syntax|URI)Error\b|SQLITE_|ECONNREFUSED|errno/;

/** Well-formed ack, or a description of what is wrong with it. */
export function checkAck(event: string, res: unknown): { ok: boolean; code?: string; problem?: Finding['type']; detail?: string } {
  if (!res || typeof res !== 'object' || Array.isArray(res)) return { ok: false, problem: 'malformed_ack', detail: `not an object: ${preview(res)}` };
  const r = res as Record<string, unknown>;
  const text = JSON.stringify(r);
  if (LEAKY.test(text)) return { ok: false, problem: 'stack_trace', detail: `ack leaks internals: ${preview(text, 400)}` };
  if (r.ok === true) {
    if ('error' in r) return { ok: false, problem: 'malformed_ack', detail: `ok:true with an error: ${preview(text)}` };
    const shape = successShape(event, r);
    return shape ? { ok: false, problem: 'malformed_ack', detail: `${shape}: ${preview(text)}` } : { ok: true };
  }
  if (r.ok !== false) return { ok: false, problem: 'malformed_ack', detail: `ok is neither true nor false: ${preview(text)}` };
  const error = r.error as Record<string, unknown> | undefined;
  if (!error || typeof error !== 'object' || typeof error.code !== 'string' || typeof error.message !== 'string' || error.message.length === 0)
    return { ok: false, problem: 'malformed_ack', detail: `error without {code,message}: ${preview(text)}` };
  if (!ERROR_CODES.includes(error.code)) return { ok: false, problem: 'malformed_ack', detail: `unknown error code ${error.code}` };
  if (error.code === 'internal') return { ok: false, code: 'internal', problem: 'internal_error', detail: error.message };
  if (error.message.length > 2_000) return { ok: false, code: error.code, problem: 'oversized_error', detail: `error message of ${error.message.length} chars: ${preview(error.message)}` };
  return { ok: false, code: error.code };
}

export function successShape(event: string, r: Record<string, unknown>): string | undefined {
  const obj = (v: unknown) => Boolean(v) && typeof v === 'object';
  switch (event) {
    case 'session:state':
      return obj(r.info) ? undefined : 'session:state without info';
    case 'battle:start':
    case 'battle:next':
      return obj(r.battle) && typeof (r.battle as { id?: unknown }).id === 'string' ? undefined : `${event} without battle.id`;
    case 'battle:vote':
      return obj(r.reveal) ? undefined : 'battle:vote without reveal';
    case 'battle:resume':
      return Array.isArray(r.events) ? undefined : 'battle:resume without events';
    case 'leaderboard:subscribe':
      return obj(r.board) ? undefined : 'leaderboard:subscribe without board';
    case 'watch:join':
      return obj(r.battle) && typeof r.viewers === 'number' && obj(r.crowd) ? undefined : 'watch:join without battle/viewers/crowd';
    case 'watch:vote':
      return obj(r.crowd) ? undefined : 'watch:vote without crowd';
    case 'status:subscribe':
      return obj(r.status) ? undefined : 'status:subscribe without status';
    default:
      return undefined;
  }
}

export function preview(value: unknown, max = 240): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value, (_k, v) => (Buffer.isBuffer(v) || v?.type === 'Buffer' ? `<Buffer ${v.length ?? v.data?.length} bytes>` : v)) ?? String(value));
  } catch {
    text = String(value);
  }
  const length = text.length;
  // Long runs of one character (huge fuzz strings) are shown as a count.
  text = text.replace(/([\s\S])\1{15,}/g, (run, c: string) => `${c}×${run.length}`);
  return text.length > max ? `${text.slice(0, max)}… (${length} chars)` : length !== text.length ? `${text} (${length} chars)` : text;
}


/** A well-formed duel, start to finish, on a fresh session: start → stream both sides → vote → spectate. */
export async function wellFormedDuel(url: string, timeoutMs = 60_000): Promise<{ ok: boolean; ms: number; detail: string }> {
  const started = Date.now();
  const session = () => Array.from({ length: 43 }, () => ID_ALPHABET[Math.floor(Math.random() * 64)]).join('');
  const sockets: Socket[] = [];
  const open = async (): Promise<Socket> => {
    // A connection rate limit may still be counting the fuzzer's connections: retry for a while.
    for (let attempt = 0; ; attempt++) {
      const socket = connect(url, { transports: ['websocket'], auth: { session: session() }, reconnection: false, forceNew: true });
      const err = await connected(socket);
      if (!err) return (sockets.push(socket), socket);
      socket.close();
      if (Date.now() - started > timeoutMs) throw new Error(`cannot connect: ${err.message}`);
      await sleep(Math.min(5_000, 250 * 2 ** attempt));
    }
  };
  const ask = async (socket: Socket, event: string, payload: unknown) => {
    const res = (await socket.timeout(15_000).emitWithAck(event, payload)) as { ok: boolean; error?: { code: string; message: string } } & Record<string, any>;
    if (!res.ok) throw new Error(`${event} refused: ${res.error?.code}: ${res.error?.message}`);
    return res;
  };
  try {
    const owner = await open();
    const ends = new Set<string>();
    let text = { left: '', right: '' };
    owner.on('battle:events', (frame: { events: { t: string; side?: 'left' | 'right'; text?: string; status?: string }[] }) => {
      for (const e of frame.events) {
        if (e.t === 'end' && e.side) ends.add(`${e.side}:${e.status}`);
        if (e.t === 'delta' && e.side && e.text) text = { ...text, [e.side]: text[e.side] + e.text };
      }
    });
    await ask(owner, 'session:state', {});
    await ask(owner, 'leaderboard:subscribe', { excludeTies: false });
    const { battle } = await ask(owner, 'battle:start', { prompt: 'After the fuzz: explain tides to a child.' });
    const deadline = Date.now() + timeoutMs;
    while (ends.size < 2 && Date.now() < deadline) await sleep(25);
    if (![...ends].every((e) => e.endsWith(':done')) || ends.size < 2) throw new Error(`answers did not finish: ${[...ends].join(', ') || 'no end events'}`);
    if (!text.left || !text.right) throw new Error('an answer streamed no text');
    const spectator = await open();
    const token = new URL(battle.sharePath, 'http://x').searchParams.get('t');
    const watched = await ask(spectator, 'watch:join', { battleId: battle.id, token });
    if (watched.battle.id !== battle.id) throw new Error('watch:join returned another battle');
    const vote = await ask(owner, 'battle:vote', { battleId: battle.id, choice: 'left' });
    if (!vote.reveal?.left?.model) throw new Error('vote without reveal');
    return { ok: true, ms: Date.now() - started, detail: `battle ${battle.id}: streamed ${text.left.length}+${text.right.length} chars, spectated, voted` };
  } catch (err) {
    return { ok: false, ms: Date.now() - started, detail: (err as Error).message };
  } finally {
    for (const s of sockets) s.close();
  }
}

/**
 * Resolves null once connected, else the error. Also settles when the transport closes mid-handshake
 * (socket.io-client then emits neither event) and after `timeoutMs`.
 */
export function connected(socket: Socket, timeoutMs = 10_000): Promise<Error | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(new Error('connect timeout')), timeoutMs);
    const done = (err: Error | null) => (clearTimeout(timer), resolve(err));
    socket.once('connect', () => done(null));
    socket.once('connect_error', (err) => done(err));
    // On a refusal the manager closes just before connect_error arrives: give that a moment to win.
    socket.io.once('close', (reason) => setTimeout(() => done(new Error(`transport closed during the handshake: ${reason}`)), 50));
  });
}

export function full(args: unknown[]): string {
  try {
    return JSON.stringify(args).slice(0, 300_000);
  } catch {
    return '(not serializable)';
  }
}


export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
