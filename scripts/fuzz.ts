/**
 * Protocol fuzzer: a seeded stream of hostile Socket.IO traffic against a running Arena, over many
 * connections, then the checks that matter for a public server:
 *
 *   - the server process stays alive (never exits, keeps answering /healthz);
 *   - its RSS stays flat (sampled after a warm-up and again after a pause; bound in `rssBoundPct`);
 *   - every ack that comes back is a well-formed `{ok:true,…}` or `{ok:false,error:{code,message}}`
 *     with a known code: never a stack trace, never a path, never an `internal` error;
 *   - every request that carries an ack function is answered (unless its connection was closed);
 *   - afterwards a well-formed duel still works end to end (start → stream → vote → spectator).
 *
 *   npx tsx scripts/fuzz.ts --events 100000 --seed 42 [--url http://127.0.0.1:3000]
 *     [--connections 24] [--exclude kind,handshake:variant] [--json report.json]
 *
 * Without --url it runs the built server (dist/arena.mjs, `npm run build` first) as a child process,
 * backed by a fast simulator in this process, and measures that process's RSS from /proc.
 * Loops are bounded (the event count) and seeded: the same seed generates the same event sequence
 * (ids learnt from the server's answers are substituted at send time, and are recorded in findings).
 * Only 127.0.0.1 traffic. Exit code 0 = no findings.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { ClientSchemas, type ClientEventName } from '../src/lib/shared/protocol.js';
import { spawnArena, stopProcess } from './lib/arena-process.js';
import { cleanupOnSignal, parseArgs, runIfMain } from './lib/cli.js';
import { GC_HOOK_NODE_ARGS, gcReports, type GcReport } from './lib/gc-hook.js';

// ------------------------------------------------------------------ seeded randomness

/** mulberry32: tiny, fast, good enough to drive a fuzzer reproducibly. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.next() * entries.reduce((s, [, w]) => s + w, 0);
    for (const [k, w] of entries) if ((roll -= w) < 0) return k;
    return entries[entries.length - 1]![0];
  }
  chars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

// ------------------------------------------------------------------ the protocol, as the fuzzer sees it

/** Every client event the server validates, read from the protocol itself (new ones are fuzzed too). */
const KNOWN_EVENTS = Object.keys(ClientSchemas) as KnownEvent[];
type KnownEvent = ClientEventName;

/** What a zod schema accepts, as far as the fuzzer needs to know (zod 4 introspection). */
type FieldKind = { type: 'enum'; options: string[] } | { type: 'string' | 'number' | 'boolean' | 'other' };
function fieldKind(schema: unknown): FieldKind {
  let s = schema as { def: { type: string; innerType?: unknown }; options?: string[] };
  while (['default', 'optional', 'prefault', 'nullable'].includes(s.def.type)) s = s.def.innerType as typeof s;
  if (s.def.type === 'enum') return { type: 'enum', options: s.options ?? [] };
  if (s.def.type === 'string' || s.def.type === 'number' || s.def.type === 'boolean') return { type: s.def.type };
  return { type: 'other' };
}
const SHAPES = Object.fromEntries(
  KNOWN_EVENTS.map((e) => {
    const shape = (ClientSchemas[e] as unknown as { shape: Record<string, unknown> }).shape;
    return [e, Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, fieldKind(v)]))];
  }),
) as Record<KnownEvent, Record<string, FieldKind>>;

export const ERROR_CODES = ['bad_request', 'not_found', 'forbidden', 'conflict', 'limit', 'answer_failed', 'rate_limited', 'unavailable', 'internal'];

/** Names no handler listens to: typos, server-side events, Object.prototype and EventEmitter names. */
const UNKNOWN_EVENTS = [
  'battle:start ',
  'Battle:Start',
  'battle:',
  'battle:delete',
  'battle:events',
  'admin:reset',
  'arena:forward',
  'arena:votes',
  'leaderboard:update',
  'info:update',
  'error',
  'message',
  'connection',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'ping',
  'pong',
  '',
  ' ',
  '\u0000',
  '\uD800',
  '🔥',
];

const FIELD_BY_EVENT = Object.fromEntries(KNOWN_EVENTS.map((e) => [e, Object.keys(SHAPES[e])])) as Record<KnownEvent, string[]>;

// ------------------------------------------------------------------ hostile values

const WEIRD_NUMBERS = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  -1,
  0,
  1.5,
  -2147483649,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  Number.EPSILON,
];

const NASTY_STRINGS = [
  '',
  ' ',
  '\t\n\r ',
  '\u0000',
  '\u0000'.repeat(64),
  '\uD800',
  '\uDFFF\uD800',
  '\uFFFE\uFFFF',
  '\u202Eevil\u202C',
  '\u200B\u200C\u200D\u2060\uFEFF',
  'e\u0301'.repeat(300),
  'Z̷̡̛̗̫͈̲͓͓̦̖̜͒̅̊̓̆̿͌̋͘a̴l̸g̶o̵',
  '🔥'.repeat(100),
  '𝕏'.repeat(40),
  '%s%s%s%n%x',
  '${process.exit()}',
  '{{constructor.constructor("return process")()}}',
  "' OR 1=1 --",
  '"; DROP TABLE battles; --',
  '../../../../etc/passwd',
  'C:\\Windows\\system32',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'A'.repeat(64),
  'A'.repeat(65),
  'A'.repeat(43),
  'null',
  'undefined',
  'NaN',
  '[object Object]',
  'left ',
  'LEFT',
];

function unicodeGarbage(rng: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const roll = rng.next();
    if (roll < 0.1) out += String.fromCharCode(rng.int(0xd800, 0xdfff)); // lone surrogates
    else if (roll < 0.2) out += String.fromCharCode(rng.int(0, 0x1f)); // control characters
    else if (roll < 0.3) out += String.fromCodePoint(rng.int(0x10000, 0x10ffff)); // astral planes
    else if (roll < 0.4) out += rng.pick(['\u202E', '\u202D', '\u2066', '\u200B', '\uFEFF', '\u0301', '\u034F', '\uFFFD']);
    else out += String.fromCharCode(rng.int(0x20, 0xfffd));
  }
  return out;
}

function nastyString(rng: Rng): string {
  return rng.chance(0.6) ? rng.pick(NASTY_STRINGS) : unicodeGarbage(rng, rng.int(1, 400));
}

/** Any JSON-ish value, occasionally binary. */
function anyValue(rng: Rng, depth = 0): unknown {
  const roll = rng.int(0, depth > 2 ? 6 : 9);
  switch (roll) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick(WEIRD_NUMBERS);
    case 3:
    case 4:
      return nastyString(rng);
    case 5:
      return undefined;
    case 6:
      return Buffer.from(rng.chars(rng.int(0, 64), ID_ALPHABET));
    case 7:
      return Array.from({ length: rng.int(0, 5) }, () => anyValue(rng, depth + 1));
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = rng.int(0, 4); i > 0; i--) obj[rng.chance(0.5) ? rng.pick(['prompt', 'battleId', 'token', 'choice', 'side', 'mode']) : nastyString(rng)] = anyValue(rng, depth + 1);
      return obj;
    }
  }
}

/** A value of a different type than the field expects. */
function wrongTypeFor(rng: Rng, field: string): unknown {
  const stringField = ['prompt', 'battleId', 'token', 'choice', 'side', 'mode', 'route'].includes(field);
  const options: (() => unknown)[] = [
    () => null,
    () => rng.pick(WEIRD_NUMBERS),
    () => [],
    () => [rng.pick(NASTY_STRINGS)],
    () => ({}),
    () => ({ toString: 'x', valueOf: 1 }),
    () => Buffer.from('binary'),
    () => rng.chance(0.5),
  ];
  if (!stringField) options.push(() => rng.pick(NASTY_STRINGS), () => '7');
  return rng.pick(options)();
}

/** Nested arrays/objects: JSON depth `depth`, built without recursion. */
function nested(depth: number, objects: boolean): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
  return value;
}

/** The same, as JSON text (deeper than a client-side JSON.stringify could walk). */
function nestedJson(depth: number, objects: boolean): string {
  return objects ? `${'{"a":'.repeat(depth)}"bottom"${'}'.repeat(depth)}` : `${'['.repeat(depth)}"bottom"${']'.repeat(depth)}`;
}

/** JSON.parse keeps `__proto__` as an own key, which a JS literal cannot. */
const PROTO_POLLUTION = () => JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}') as Record<string, unknown>;

// ------------------------------------------------------------------ planned events

export type FuzzKind =
  | 'valid'
  | 'wrongType'
  | 'missing'
  | 'extra'
  | 'hugeString'
  | 'deepNest'
  | 'unicode'
  | 'numbers'
  | 'unknownEvent'
  | 'noAck'
  | 'binary'
  | 'multiArg'
  | 'crossSession'
  | 'raw'
  | 'flood'
  | 'handshake';

const WEIGHTS: Record<FuzzKind, number> = {
  valid: 12,
  wrongType: 11,
  missing: 7,
  extra: 7,
  hugeString: 1.5,
  deepNest: 3,
  unicode: 8,
  numbers: 7,
  unknownEvent: 7,
  noAck: 7,
  binary: 5,
  multiArg: 3,
  crossSession: 9,
  raw: 3.5,
  flood: 0.4,
  handshake: 1.5,
};

/** What the reply to an event must look like. */
type Expect =
  /** An ack must come back, unless the connection closes first. */
  | 'reply'
  /** No ack function reaches a handler: nothing may come back, nothing may break. */
  | 'silent'
  /** The server may close this connection (oversized or malformed packet). */
  | 'mayClose';

interface Planned {
  index: number;
  kind: FuzzKind;
  variant: string;
  event: string;
  args: unknown[];
  ack: boolean;
  expect: Expect;
  /** Raw socket.io / engine.io frames instead of an emit. */
  raw?: { frames: (string | Buffer)[]; engineLevel?: boolean; ackId?: number };
  handshake?: { auth?: unknown; headers?: Record<string, string>; shouldConnect: boolean | null };
  /** Fill ids from battles learnt so far, at send time. */
  ids?: 'own' | 'foreign' | 'random' | 'ownWrongToken' | 'foreignToken';
}

interface KnownBattle {
  id: string;
  token: string;
  slot: number;
}

/** A payload the schema accepts (battleId and token are filled in at send time). */
function validPayload(rng: Rng, event: KnownEvent): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [field, kind] of Object.entries(SHAPES[event])) {
    if (field === 'battleId' || field === 'token') payload[field] = '';
    else if (field === 'prompt')
      payload[field] = rng.pick(['Hello!', 'Explain tides to a child.', 'Write a haiku about rain.', '<b>bold</b> & <i>friends</i>', 'What is 2+2?', unicodeGarbage(rng, 20).trim() || 'x']);
    // Optional and defaulted fields are left out now and then.
    else if (rng.chance(0.25)) continue;
    // Mostly plain arena battles: tournaments run every model.
    else if (kind.type === 'enum') payload[field] = field === 'mode' && rng.chance(0.9) ? 'arena' : rng.pick(kind.options);
    else if (kind.type === 'boolean') payload[field] = rng.chance(0.5);
    else if (kind.type === 'number') payload[field] = rng.int(0, 50);
    else if (kind.type === 'string') payload[field] = rng.chars(rng.int(1, 20), ID_ALPHABET);
  }
  return payload;
}

/** Valid traffic leans on the events that do real work. */
const EVENT_WEIGHTS: Partial<Record<KnownEvent, number>> = { 'session:state': 3, 'battle:start': 2, 'battle:vote': 2, 'battle:resume': 2, 'watch:join': 2 };
function pickKnownEvent(rng: Rng): KnownEvent {
  return rng.weighted<KnownEvent>(Object.fromEntries(KNOWN_EVENTS.map((e) => [e, EVENT_WEIGHTS[e] ?? 1])) as Record<KnownEvent, number>);
}

const HANDSHAKES: { variant: string; auth?: () => unknown; headers?: () => Record<string, string>; shouldConnect: boolean | null }[] = [
  { variant: 'no-auth', shouldConnect: false },
  { variant: 'auth-number', auth: () => ({ session: 12345 }), shouldConnect: false },
  { variant: 'auth-object', auth: () => ({ session: { $ne: null } }), shouldConnect: false },
  { variant: 'auth-array', auth: () => ({ session: ['A'.repeat(43)] }), shouldConnect: false },
  { variant: 'auth-short', auth: () => ({ session: 'abc' }), shouldConnect: false },
  { variant: 'auth-44', auth: () => ({ session: 'A'.repeat(44) }), shouldConnect: false },
  { variant: 'auth-unicode', auth: () => ({ session: unicodeGarbage(new Rng(7), 43) }), shouldConnect: false },
  { variant: 'auth-huge', auth: () => ({ session: 'A'.repeat(200_000) }), shouldConnect: false },
  { variant: 'auth-proto', auth: () => PROTO_POLLUTION(), shouldConnect: false },
  { variant: 'origin-foreign', headers: () => ({ origin: 'https://evil.example' }), shouldConnect: false },
  { variant: 'origin-null', headers: () => ({ origin: 'null' }), shouldConnect: false },
  { variant: 'origin-garbage', headers: () => ({ origin: 'http://[::1' }), shouldConnect: false },
  { variant: 'origin-lookalike', headers: () => ({ origin: 'http://127.0.0.1.evil.example' }), shouldConnect: false },
  { variant: 'cookie-bad-percent', headers: () => ({ cookie: 'arena_session=%E0%A4%A' }), shouldConnect: false },
  { variant: 'cookie-garbage', headers: () => ({ cookie: ';;;=;arena_session;=arena_session=;\u00ff' }), shouldConnect: false },
  { variant: 'cookie-huge', headers: () => ({ cookie: `x=${'y'.repeat(12_000)}` }), shouldConnect: false },
  { variant: 'cookie-valid', headers: () => ({ cookie: `arena_session=${'Q'.repeat(43)}` }), shouldConnect: true },
  { variant: 'auth-valid', auth: () => ({ session: 'R'.repeat(43) }), shouldConnect: true },
];

const SIZES = [8_001, 100_001, 200_000, 255 * 1024, 257 * 1024, 400 * 1024];

function rawPackets(rng: Rng, ackId: number): { variant: string; frames: (string | Buffer)[]; engineLevel?: boolean; ackId?: number } {
  const depth = rng.int(1_000, 60_000);
  const options = [
    () => ({ variant: 'event-no-data', frames: ['2'] }),
    () => ({ variant: 'bad-json', frames: [`2${ackId}["battle:start",{"prompt":`] }),
    () => ({ variant: 'object-not-array', frames: [`2${ackId}{"battle:start":1}`] }),
    () => ({ variant: 'empty-array', frames: [`2${ackId}[]`] }),
    () => ({ variant: 'numeric-event', frames: [`2${ackId}[1,2,3]`], ackId }),
    () => ({ variant: 'valid-raw', frames: [`2${ackId}["session:state",{}]`], ackId }),
    () => ({ variant: 'huge-ack-id', frames: ['299999999999999999999999["session:state",{}]'] }),
    () => ({ variant: 'negative-ack-id', frames: ['2-1["session:state",{}]'] }),
    () => ({ variant: 'unknown-namespace-event', frames: [`2/admin,${ackId}["session:state",{}]`] }),
    () => ({ variant: 'connect-unknown-namespace', frames: ['0/admin,{}'] }),
    () => ({ variant: 'reconnect-root', frames: ['0{"session":"AAAA"}'] }),
    () => ({ variant: 'disconnect-packet', frames: ['1'] }),
    () => ({ variant: 'stray-ack', frames: [`3${ackId}["x"]`] }),
    () => ({ variant: 'connect-error-packet', frames: ['4{"message":"x"}'] }),
    () => ({ variant: 'unknown-type', frames: ['9[]'] }),
    () => ({ variant: 'deep-array-json', frames: [`2${ackId}["battle:start",${nestedJson(depth, false)}]`], ackId }),
    () => ({ variant: 'deep-object-json', frames: [`2${ackId}["session:state",{"x":${nestedJson(depth, true)}}]`], ackId }),
    () => ({ variant: 'unbalanced-deep-json', frames: [`2${ackId}${'['.repeat(depth)}`] }),
    () => ({ variant: 'binary-missing-attachment', frames: [`51-${ackId}["battle:start",{"_placeholder":true,"num":0}]`, `2${ackId + 1}["session:state",{}]`] }),
    () => ({ variant: 'binary-bad-index', frames: [`51-${ackId}["battle:start",{"_placeholder":true,"num":7}]`, Buffer.from('abc')] }),
    () => ({ variant: 'binary-proto-index', frames: [`51-${ackId}["battle:start",{"_placeholder":true,"num":"__proto__"}]`, Buffer.from('abc')] }),
    () => ({ variant: 'binary-huge-count', frames: [`5999999999-${ackId}["battle:start",{"_placeholder":true,"num":0}]`, Buffer.from('abc')] }),
    () => ({ variant: 'binary-deep', frames: [`51-${ackId}["battle:start",${nestedJson(Math.min(depth, 20_000), false).replace('"bottom"', '{"_placeholder":true,"num":0}')}]`, Buffer.from('abc')] }),
    () => ({ variant: 'stray-binary', frames: [Buffer.from([0, 1, 2, 255])] }),
    () => ({ variant: 'engine-garbage', frames: ['x', '9', ''], engineLevel: true }),
    () => ({ variant: 'engine-upgrade-again', frames: ['5'], engineLevel: true }),
    () => ({ variant: 'engine-close', frames: ['1'], engineLevel: true }),
    () => ({ variant: 'engine-noop-ping', frames: ['6', '3probe', '2'], engineLevel: true }),
  ];
  return rng.pick(options)();
}

/** The deterministic plan of event #index (ids are filled in later). */
export function planEvent(rng: Rng, index: number, exclude: Set<string>): Planned {
  for (;;) {
    const planned = plan(rng, index);
    if (!exclude.has(planned.kind) && !exclude.has(`${planned.kind}:${planned.variant}`)) return planned;
  }
}

function plan(rng: Rng, index: number): Planned {
  const kind = rng.weighted(WEIGHTS);
  const event = pickKnownEvent(rng);
  const fields = FIELD_BY_EVENT[event];
  const base = validPayload(rng, event);
  const p = (variant: string, args: unknown[], extra: Partial<Planned> = {}): Planned => ({
    index,
    kind,
    variant,
    event,
    args,
    ack: true,
    expect: 'reply',
    ids: rng.pick(['own', 'own', 'foreign', 'random'] as const),
    ...extra,
  });
  switch (kind) {
    case 'valid':
      return p(event, [base], { ids: rng.pick(['own', 'own', 'own', 'foreign', 'random'] as const) });
    case 'wrongType': {
      if (fields.length === 0 || rng.chance(0.3)) {
        const whole = rng.pick<unknown>(['string', 42, true, [], [base], nastyString(rng), -1]);
        return p('whole-payload', [whole]);
      }
      const field = rng.pick(fields);
      return p(field, [{ ...base, [field]: wrongTypeFor(rng, field) }]);
    }
    case 'missing': {
      if (fields.length === 0) return p('undefined-payload', [undefined]);
      const copy = { ...base };
      const variant = rng.chance(0.3) ? 'all' : rng.pick(fields);
      if (variant === 'all') for (const f of fields) delete copy[f];
      else delete copy[variant];
      return p(variant, [copy]);
    }
    case 'extra': {
      const roll = rng.int(0, 3);
      if (roll === 0) return p('proto-keys', [{ ...base, ...PROTO_POLLUTION() }]);
      if (roll === 1) return p('huge-key', [{ ...base, ['k'.repeat(rng.int(1_000, 100_000))]: 1 }]);
      const copy: Record<string, unknown> = { ...base };
      for (let i = rng.int(1, 6); i > 0; i--) copy[rng.chance(0.5) ? nastyString(rng) : rng.chars(rng.int(1, 12), ID_ALPHABET)] = anyValue(rng);
      return p('random-keys', [copy]);
    }
    case 'hugeString': {
      const size = rng.pick(SIZES);
      const field = rng.pick(fields.length ? fields : ['prompt']);
      const filler = rng.chance(0.5) ? 'A' : rng.pick(['é', '🔥', '<', '\u0000']);
      const value = filler.repeat(Math.ceil(size / Buffer.byteLength(filler)));
      // Past maxHttpBufferSize (256 KiB) the server closes the connection.
      return p(`${field}-${size}`, [{ ...base, [field]: value }], { expect: size > 256 * 1024 ? 'mayClose' : 'reply' });
    }
    case 'deepNest': {
      const depth = rng.pick([50, 500, 2_000, 5_000]);
      const objects = rng.chance(0.5);
      const field = rng.pick(fields.length ? fields : ['x']);
      return rng.chance(0.3) ? p(`payload-${depth}`, [nested(depth, objects)]) : p(`${field}-${depth}`, [{ ...base, [field]: nested(depth, objects) }]);
    }
    case 'unicode': {
      const copy: Record<string, unknown> = { ...base };
      const field = rng.pick(fields.length ? fields : ['prompt']);
      copy[field] = rng.chance(0.5) ? unicodeGarbage(rng, rng.int(1, 2_000)) : rng.pick(NASTY_STRINGS);
      // Fields keep their learnt ids unless the garbage is what we test.
      return p(field, [copy], { ids: field === 'battleId' || field === 'token' ? undefined : 'own' });
    }
    case 'numbers': {
      const copy: Record<string, unknown> = { ...base };
      const field = event === 'battle:resume' && rng.chance(0.7) ? 'afterSeq' : rng.pick(fields.length ? fields : ['afterSeq']);
      copy[field] = rng.pick(WEIRD_NUMBERS);
      return p(field, [copy], { ids: 'own' });
    }
    case 'unknownEvent': {
      const name = rng.chance(0.8) ? rng.pick(UNKNOWN_EVENTS) : unicodeGarbage(rng, rng.int(1, 300));
      // Nobody listens: no ack can come back, and none is expected.
      return p('unknown', [anyValue(rng)], { event: name, expect: 'silent', ids: undefined });
    }
    case 'noAck': {
      const payload = rng.chance(0.5) ? base : { ...base, [rng.pick(fields.length ? fields : ['x'])]: anyValue(rng) };
      return p('no-ack', [payload], { ack: false, expect: 'silent' });
    }
    case 'binary': {
      const roll = rng.int(0, 3);
      if (roll === 0) return p('buffer-payload', [Buffer.from(rng.chars(rng.int(0, 512), ID_ALPHABET))]);
      if (roll === 1) return p('uint8-empty', [new Uint8Array(0)]);
      if (roll === 2) return p('buffer-large', [{ ...base, blob: Buffer.alloc(rng.int(10_000, 200_000), 7) }]);
      const field = rng.pick(fields.length ? fields : ['prompt']);
      return p(`${field}-buffer`, [{ ...base, [field]: Buffer.from('binary field') }]);
    }
    case 'multiArg': {
      // dispatch(payload, ack) takes its ack from the second argument only.
      if (rng.chance(0.5)) return p('ack-only', [], { expect: 'silent' });
      return p('extra-args', [base, anyValue(rng), anyValue(rng)], { expect: 'silent' });
    }
    case 'crossSession':
      // Well-formed requests on battles this connection does not own, or with wrong capabilities.
      return p(event, [base], { ids: rng.pick(['foreign', 'foreign', 'ownWrongToken', 'foreignToken'] as const) });
    case 'raw': {
      const raw = rawPackets(rng, 1_000_000_000 + index * 2);
      return p(raw.variant, [], { event: '(raw)', raw, expect: raw.ackId !== undefined ? 'reply' : 'mayClose', ids: undefined });
    }
    case 'flood':
      return p('flood', [], { event: '(flood)', ids: undefined });
    case 'handshake': {
      const h = rng.pick(HANDSHAKES);
      return p(h.variant, [], {
        event: '(handshake)',
        ids: undefined,
        handshake: { auth: h.auth?.(), headers: h.headers?.(), shouldConnect: h.shouldConnect },
      });
    }
  }
}

// ------------------------------------------------------------------ ack checks

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

const LEAKY = /\n\s+at |\bat [\w$.<>]+ \(|node_modules|file:\/\/|\/work\/|\/home\/|\.tsx?:\d+|\.m?js:\d+|(?:Type|Reference|Range|Syntax|URI)Error\b|SQLITE_|ECONNREFUSED|errno/;

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

function successShape(event: string, r: Record<string, unknown>): string | undefined {
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

function preview(value: unknown, max = 240): string {
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

// ------------------------------------------------------------------ the run

export interface FuzzOptions {
  url: string;
  events: number;
  seed: number;
  /** Concurrent fuzzing connections (each its own session). Default 24. */
  connections?: number;
  /** Server RSS in bytes (e.g. from /proc/<pid>/status); omitted = not measured. */
  rss?: () => number | Promise<number>;
  /** False once the server process has died. */
  alive?: () => boolean;
  /**
   * Full GC in the server, then its memory (see startServerProcess): used for the baseline and
   * final samples when given, so only memory that survives a collection counts.
   */
  collect?: () => Promise<{ rss: number; heapUsed: number }>;
  /** RSS growth allowed between the post-warm-up sample and the final one, in %. Default 20. */
  rssBoundPct?: number;
  /** Events before the baseline RSS sample. Default min(10000, events / 5). */
  warmupEvents?: number;
  /** Pause before the final RSS sample (lets the GC run and sockets close). Default 5000. */
  settleMs?: number;
  /** Wait this long for an ack before calling it unanswered. Default 15000. */
  ackTimeoutMs?: number;
  /** Unresolved acks allowed at once. Default 256. */
  maxInFlight?: number;
  /** Kinds (`raw`) or kind:variant (`handshake:cookie-bad-percent`) never generated. */
  exclude?: string[];
  log?: (line: string) => void;
}

export interface FuzzReport {
  seed: number;
  eventsPlanned: number;
  eventsSent: number;
  durationMs: number;
  eventsPerSecond: number;
  byKind: Record<string, number>;
  acks: { ok: number; errors: Record<string, number>; unansweredAfterClose: number; silentAsExpected: number; unexpectedReplies: number };
  /** Payloads socket.io-client itself refused to encode (never sent). */
  unencodable: number;
  connections: { opened: number; closedByServer: number; connectErrors: Record<string, number> };
  handshakes: Record<string, { connected: number; refused: number }>;
  rss?: {
    startMb: number;
    warmMb: number;
    peakMb: number;
    endMb: number;
    growthPct: number;
    boundPct: number;
    /** How the baseline and final samples were taken. */
    method: 'after forced GC' | 'after a pause';
    /** V8 heap in use after the forced GCs (when available). */
    heapWarmMb?: number;
    heapEndMb?: number;
  };
  alive: boolean;
  afterCheck: { ok: boolean; ms: number; detail: string };
  findings: Finding[];
  /** Findings grouped by type and detail, with counts. */
  findingSummary: { type: string; detail: string; count: number; example: Finding }[];
  pass: boolean;
}

type FuzzSocket = Socket;

interface Slot {
  index: number;
  session: string;
  socket?: FuzzSocket;
  connecting?: Promise<FuzzSocket | undefined>;
  /** Acks waiting on this socket: resolved with 'closed' when it disconnects. */
  pending: Set<(closed: 'closed') => void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const log = opts.log ?? (() => undefined);
  // The plan of event #n depends on the seed alone; choices made at send time (learnt ids, flood
  // contents) draw from a second generator, so they never shift the plan.
  const rng = new Rng(opts.seed);
  const live = new Rng(opts.seed ^ 0x2545f491);
  const exclude = new Set(opts.exclude ?? []);
  const connections = opts.connections ?? 24;
  const ackTimeoutMs = opts.ackTimeoutMs ?? 15_000;
  const maxInFlight = opts.maxInFlight ?? 256;
  const warmupEvents = opts.warmupEvents ?? Math.min(10_000, Math.floor(opts.events / 5));
  const rssBoundPct = opts.rssBoundPct ?? 20;
  const alive = opts.alive ?? (() => true);
  const readRss = async () => {
    try {
      return opts.rss ? Number(await opts.rss()) : NaN;
    } catch {
      return NaN; // the process is gone
    }
  };
  /** A baseline or final sample: after a forced GC when the harness can, else as it is. */
  const settledMemory = async (): Promise<{ rss: number; heapUsed?: number }> => {
    if (opts.collect) {
      try {
        return await opts.collect();
      } catch {
        /* the server died (checked by the caller) or cannot collect: fall back to a plain sample */
      }
    }
    return { rss: await readRss() };
  };

  const findings: Finding[] = [];
  const byKind: Record<string, number> = {};
  const acks = { ok: 0, errors: {} as Record<string, number>, unansweredAfterClose: 0, silentAsExpected: 0, unexpectedReplies: 0 };
  const conn = { opened: 0, closedByServer: 0, connectErrors: {} as Record<string, number> };
  const handshakes: Record<string, { connected: number; refused: number }> = {};
  const battles: KnownBattle[] = [];
  const recent: Planned[] = [];
  /** Handshakes and raw packets, on connections of their own. */
  const recentSide: Planned[] = [];
  const lastEvents = () =>
    `the last events sent: ${recent.map((e) => `#${e.index} ${e.kind}/${e.variant} ${e.event}`).join(', ')}; ` +
    `the last side connections: ${recentSide.map((e) => `#${e.index} ${e.kind}/${e.variant}${e.handshake?.headers ? ` headers ${JSON.stringify(e.handshake.headers).slice(0, 120)}` : ''}`).join(', ')}`;
  let sent = 0;
  let unencodable = 0;
  let inFlight = 0;
  let crashed = false;
  const idle: (() => void)[] = [];

  const finding = (f: Finding) => {
    if (findings.length < 5_000) findings.push(f);
  };
  const describe = (ev: Planned) => ({ index: ev.index, kind: ev.kind, variant: ev.variant, event: ev.event, payload: preview(ev.raw ? ev.raw.frames.map((f) => (typeof f === 'string' ? f : `<binary ${f.length}>`)) : ev.args, 600) });

  const sessionRng = new Rng(opts.seed ^ 0x5eed);
  const slots: Slot[] = Array.from({ length: connections }, (_, index) => ({
    index,
    session: sessionRng.chars(43, ID_ALPHABET),
    pending: new Set(),
  }));

  function open(slot: Slot): Promise<FuzzSocket | undefined> {
    if (slot.socket?.connected) return Promise.resolve(slot.socket);
    slot.connecting ??= (async () => {
      for (let attempt = 0; attempt < 20 && !crashed; attempt++) {
        if (!alive()) {
          crashed = true;
          break;
        }
        const socket = connect(opts.url, { transports: ['websocket'], auth: { session: slot.session }, reconnection: false, forceNew: true, timeout: 10_000 });
        const result = await connected(socket);
        if (!result) {
          conn.opened++;
          watchSocket(slot, socket);
          slot.socket = socket;
          return socket;
        }
        socket.close();
        conn.connectErrors[result.message] = (conn.connectErrors[result.message] ?? 0) + 1;
        await sleep(Math.min(5_000, 100 * 2 ** attempt));
      }
      return undefined;
    })().finally(() => (slot.connecting = undefined));
    return slot.connecting;
  }

  function watchSocket(slot: Slot, socket: FuzzSocket) {
    socket.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') conn.closedByServer++;
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
      conn.connectErrors[err.message] = (conn.connectErrors[err.message] ?? 0) + 1;
      socket.close();
      return;
    }
    conn.opened++;
    sent++;
    let closedByServer = false;
    // The ack to a raw packet is a packet socket.io-client does not expect: read it off the engine.
    const reply = new Promise<string | undefined>((resolve) => {
      socket.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect') (closedByServer = true), conn.closedByServer++;
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
      unencodable++;
    }
    const body = await reply;
    socket.close();
    if (body === undefined) {
      if (raw.ackId !== undefined) closedByServer ? acks.unansweredAfterClose++ : acks.silentAsExpected++;
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
      acks.unexpectedReplies++;
      finding({ type: 'unexpected_reply', detail: `a reply to an event that should be dropped: ${preview(res)}`, ...describe(ev) });
      return;
    }
    // Past maxHttpBufferSize the connection must be closed, not answered.
    if (ev.kind === 'hugeString' && ev.expect === 'mayClose')
      finding({ type: 'size_limit', detail: `a packet over maxHttpBufferSize (256 KiB) was answered: ${preview(res)}`, ...describe(ev) });
    const check = checkAck(event, res);
    if (check.ok) acks.ok++;
    else if (check.code) acks.errors[check.code] = (acks.errors[check.code] ?? 0) + 1;
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

  function fillIds(ev: Planned, slot: Slot) {
    if (!ev.ids || !ev.args.length) return;
    const payload = ev.args[0];
    if (!payload || typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload)) return;
    const p = payload as Record<string, unknown>;
    const own = battles.filter((b) => b.slot === slot.index);
    const foreign = battles.filter((b) => b.slot !== slot.index);
    const pickFrom = (list: KnownBattle[]) => (list.length ? list[live.int(0, list.length - 1)] : undefined);
    const randomId = () => live.chars(16, ID_ALPHABET);
    let battle: KnownBattle | undefined;
    let token: string | undefined;
    switch (ev.ids) {
      case 'own':
        battle = pickFrom(own);
        token = battle?.token;
        break;
      case 'foreign':
        battle = pickFrom(foreign);
        token = battle?.token;
        break;
      case 'foreignToken': // a real token of another battle
        battle = pickFrom(own);
        token = pickFrom(foreign)?.token;
        break;
      case 'ownWrongToken':
        battle = pickFrom(own) ?? pickFrom(foreign);
        token = battle ? battle.token.slice(0, -1) + (battle.token.endsWith('A') ? 'B' : 'A') : undefined;
        break;
      case 'random':
        break;
    }
    if ('battleId' in p && p.battleId === '') p.battleId = battle?.id ?? randomId();
    if ('token' in p && p.token === '') p.token = token ?? randomId();
  }

  function settleOne() {
    inFlight--;
    idle.shift()?.();
  }

  async function waitForRoom() {
    while (inFlight >= maxInFlight && !crashed) await new Promise<void>((r) => idle.push(r));
  }

  async function waitForAll(timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (inFlight > 0 && Date.now() < deadline && !crashed) await sleep(20);
  }

  /** Emits with an ack; resolves when it is answered, the socket closes, or the timeout passes. */
  function emitWithAck(slot: Slot, socket: FuzzSocket, ev: Planned, event: string, args: unknown[]) {
    // Events expected to go unanswered wait on their own timers, outside the in-flight budget.
    const counted = ev.expect !== 'silent';
    if (counted) inFlight++;
    let done = false;
    const finish = (outcome: 'ack' | 'closed' | 'timeout', res?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      slot.pending.delete(onClose);
      if (counted) settleOne();
      if (outcome === 'ack') return recordAck(ev, event, res);
      if (outcome === 'closed') return void acks.unansweredAfterClose++;
      if (ev.expect === 'silent') return void acks.silentAsExpected++;
      if (ev.expect === 'mayClose') return void acks.unansweredAfterClose++;
      if (!KNOWN_EVENTS.includes(event as KnownEvent)) return void acks.silentAsExpected++;
      finding({ type: 'unanswered', detail: `no ack within ${ackTimeoutMs} ms on a live connection`, ...describe(ev), fullPayload: full(args) });
    };
    const onClose = () => finish('closed');
    slot.pending.add(onClose);
    const timer = setTimeout(() => finish('timeout'), ev.expect === 'silent' ? Math.min(ackTimeoutMs, 1_500) : ackTimeoutMs);
    try {
      socket.emit(event, ...args, (res: unknown) => finish('ack', res));
    } catch {
      // socket.io-client itself cannot encode it (e.g. a Buffer as an object's prototype): not sent.
      unencodable++;
      done = true;
      clearTimeout(timer);
      slot.pending.delete(onClose);
      if (counted) settleOne();
    }
  }

  async function send(ev: Planned) {
    byKind[ev.kind] = (byKind[ev.kind] ?? 0) + 1;
    const ring = ev.kind === 'handshake' || ev.raw ? recentSide : recent;
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
    sent++;

    if (ev.kind === 'flood') return flood(slot, socket, ev);
    fillIds(ev, slot);
    if (!ev.ack) {
      try {
        socket.emit(ev.event, ...ev.args);
        acks.silentAsExpected++;
      } catch {
        unencodable++;
      }
      return;
    }
    emitWithAck(slot, socket, ev, ev.event, ev.args);
  }

  /** Many events back to back on one socket, acks awaited together. */
  function flood(slot: Slot, socket: FuzzSocket, ev: Planned) {
    const count = live.int(100, 400);
    byKind.flood = (byKind.flood ?? 0) + count - 1;
    sent += count - 1;
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
    const stats = (handshakes[ev.variant] ??= { connected: 0, refused: 0 });
    const socket = connect(opts.url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 5_000,
      ...(h.auth !== undefined ? { auth: h.auth as Record<string, unknown> } : {}),
      ...(h.headers ? { extraHeaders: h.headers } : {}),
    });
    sent++;
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

  // ------------------------------------------------------------------ main loop
  const rssStart = opts.rss ? (await settledMemory()).rss : NaN;
  let rssWarm = rssStart;
  let heapWarm: number | undefined;
  let rssPeak = rssStart;
  const sampler = opts.rss
    ? setInterval(async () => {
        const v = await readRss().catch(() => NaN);
        if (v > rssPeak) rssPeak = v;
      }, 1_000)
    : undefined;

  const handshaking = new Set<Promise<unknown>>();
  let index = 0;
  const progress = setInterval(() => {
    log(`${index}/${opts.events} events, ${inFlight} in flight, ${handshaking.size} side connections, ${conn.closedByServer} connections closed by the server, ${findings.length} findings${alive() ? '' : ', SERVER DOWN'}`);
  }, 5_000);
  for (; index < opts.events && !crashed; index++) {
    if (index === warmupEvents) {
      await waitForAll(ackTimeoutMs);
      if (!alive()) {
        crashed = true;
        break;
      }
      if (opts.rss && alive()) {
        const m = await settledMemory();
        rssWarm = m.rss;
        heapWarm = m.heapUsed;
        log(`warm-up done after ${index} events: RSS ${mb(rssWarm)} MB${heapWarm ? `, heap ${mb(heapWarm)} MB` : ''}`);
      }
    }
    const ev = planEvent(rng, index, exclude);
    await waitForRoom();
    // Handshakes and connection (re)opening are slow: do not let them stall everything else.
    if (ev.kind === 'handshake' || ev.raw) {
      // Each on a connection of its own, a few at a time, beside the main stream.
      const attempt = send(ev).catch((err) => finding({ type: 'handshake', detail: String(err), ...describe(ev) }));
      handshaking.add(attempt);
      void attempt.finally(() => handshaking.delete(attempt));
      if (handshaking.size >= 16) await Promise.race(handshaking);
    } else await send(ev);
    if (ev.kind === 'flood') await waitForAll(ackTimeoutMs);
    if (!alive()) crashed = true;
    // Let acks and socket events run now and then.
    if (index % 64 === 63) await new Promise((r) => setImmediate(r));
  }
  await waitForAll(ackTimeoutMs + 1_000);
  await Promise.all(handshaking);
  clearInterval(progress);
  // Silent events wait up to 1.5 s for a reply that must not come.
  await sleep(1_600);
  const durationMs = Date.now() - started;
  for (const slot of slots) slot.socket?.close();
  if (!alive()) crashed = true;

  if (crashed) {
    finding({
      type: 'crash',
      detail: `the server process died around event #${index}; ${lastEvents()}`,
    });
  }

  // ------------------------------------------------------------------ afterwards
  let rss: FuzzReport['rss'];
  if (opts.rss && !crashed) await sleep(opts.settleMs ?? 5_000);
  if (!alive() && !crashed) {
    crashed = true;
    finding({ type: 'crash', detail: `the server process died after the last event; ${lastEvents()}` });
  }
  if (opts.rss && !crashed) {
    const final = await settledMemory();
    const end = final.rss;
    clearInterval(sampler);
    const growthPct = ((end - rssWarm) / rssWarm) * 100;
    rss = {
      startMb: mb(rssStart),
      warmMb: mb(rssWarm),
      peakMb: mb(Math.max(rssPeak, end, rssWarm)),
      endMb: mb(end),
      growthPct: round(growthPct),
      boundPct: rssBoundPct,
      method: opts.collect ? 'after forced GC' : 'after a pause',
      ...(heapWarm !== undefined && final.heapUsed !== undefined ? { heapWarmMb: mb(heapWarm), heapEndMb: mb(final.heapUsed) } : {}),
    };
    if (growthPct >= rssBoundPct)
      finding({ type: 'rss_growth', detail: `server RSS grew ${round(growthPct)} % (${mb(rssWarm)} → ${mb(end)} MB) after the warm-up; bound ${rssBoundPct} %` });
  }
  clearInterval(sampler);

  const afterCheck = crashed ? { ok: false, ms: 0, detail: 'server is down' } : await wellFormedDuel(opts.url);
  if (!afterCheck.ok) finding({ type: 'after_check', detail: afterCheck.detail });

  const groups = new Map<string, { type: string; detail: string; count: number; example: Finding }>();
  for (const f of findings) {
    const key = `${f.type}|${f.detail.replace(/\d+/g, 'N').slice(0, 60)}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { type: f.type, detail: f.detail, count: 1, example: f });
  }
  return {
    seed: opts.seed,
    eventsPlanned: opts.events,
    eventsSent: sent,
    durationMs,
    eventsPerSecond: Math.round((sent / durationMs) * 1000),
    byKind,
    acks,
    unencodable,
    connections: conn,
    handshakes,
    rss,
    alive: !crashed && alive(),
    afterCheck,
    findings,
    findingSummary: [...groups.values()].sort((a, b) => b.count - a.count),
    pass: findings.length === 0,
  };
}

/** A well-formed duel, start to finish, on a fresh session: start → stream both sides → vote → spectate. */
export async function wellFormedDuel(url: string, timeoutMs = 60_000): Promise<{ ok: boolean; ms: number; detail: string }> {
  const started = Date.now();
  const session = () => Array.from({ length: 43 }, () => ID_ALPHABET[Math.floor(Math.random() * 64)]).join('');
  const sockets: FuzzSocket[] = [];
  const open = async (): Promise<FuzzSocket> => {
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
  const ask = async (socket: FuzzSocket, event: string, payload: unknown) => {
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

function full(args: unknown[]): string {
  try {
    return JSON.stringify(args).slice(0, 300_000);
  } catch {
    return '(not serializable)';
  }
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const round = (n: number) => Math.round(n * 10) / 10;

// ------------------------------------------------------------------ the server as a child process

/** Resident set size of a process, in bytes (Linux /proc). */
export function procRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!kb) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb[1]) * 1024;
}

/** Open file descriptors of a process (sockets, files, pipes). */
export function procFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export interface ServerProcess {
  url: string;
  /** /metrics, on its own listener. */
  metricsUrl: string;
  proc: ChildProcess;
  /** Forces a full GC in the server (SIGUSR2 to the harness preload) and returns its memory afterwards. */
  gc(): Promise<GcReport>;
  /** error/fatal log lines (capped), for the report. */
  errors: Record<string, unknown>[];
  /** The last 64 KiB of stderr. */
  stderr(): string;
  stop(): Promise<number | null>;
}

/**
 * The built server (`node dist/arena.mjs serve`) on an ephemeral port, its models on `simUrl`,
 * with `config` merged into a temporary config file. Only its errors are kept from its log.
 */
export async function startServerProcess(opts: { simUrl: string; config?: Record<string, unknown>; env?: Record<string, string> }): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'arena-fuzz-'));
  const configFile = join(dir, 'arena.config.yaml');
  // JSON is YAML.
  writeFileSync(configFile, JSON.stringify({ backends: [{ id: 'sim', kind: 'ollama', url: opts.simUrl }], ...opts.config }, null, 2));
  const errors: Record<string, unknown>[] = [];
  let reports: ReturnType<typeof gcReports> | undefined;
  const { url, metricsUrl, proc, stderr } = await spawnArena({
    nodeArgs: GC_HOOK_NODE_ARGS,
    env: { DATA_DIR: join(dir, 'data'), ARENA_CONFIG: configFile, ARENA_DEMO: 'off', ...opts.env },
    onLog: (entry) => {
      if (Number(entry.level) >= 50 && errors.length < 200) errors.push(entry);
    },
    // The hook's GC reports share stderr with the server: answer gc() with them, keep the rest.
    onStderr: (chunk) => reports?.filter(chunk) ?? chunk,
    stderrLimit: 65_536,
  });
  reports = gcReports(proc);
  const gc = reports.collect;
  return {
    url,
    metricsUrl,
    proc,
    errors,
    gc,
    stderr,
    stop: async () => {
      const { code } = await stopProcess(proc, 15_000);
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Fast simulated models, so battles finish quickly and the server, not the models, is under test. */
export const FAST_MODELS = [
  { name: 'fz-alpha:1b', family: 'alpha', tokensPerSecond: 300, ttftMs: 10, maxTokens: 40 },
  { name: 'fz-beta:2b', family: 'beta', tokensPerSecond: 300, ttftMs: 10, maxTokens: 40 },
  { name: 'fz-gamma:3b', family: 'gamma', tokensPerSecond: 300, ttftMs: 10, maxTokens: 40 },
  { name: 'fz-delta:4b', family: 'delta', tokensPerSecond: 300, ttftMs: 10, maxTokens: 40 },
];

// ------------------------------------------------------------------ report

export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  lines.push(`fuzz seed ${r.seed}: ${r.eventsSent} events in ${(r.durationMs / 1000).toFixed(1)} s (${r.eventsPerSecond}/s)`);
  lines.push(`  by kind: ${Object.entries(r.byKind).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  lines.push(
    `  acks: ${r.acks.ok} ok, errors ${Object.entries(r.acks.errors).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}; ` +
      `${r.acks.silentAsExpected} silent as expected, ${r.acks.unansweredAfterClose} cut by a closed connection, ${r.acks.unexpectedReplies} unexpected replies`,
  );
  lines.push(
    `  connections: ${r.connections.opened} opened, ${r.connections.closedByServer} closed by the server; connect errors: ${JSON.stringify(r.connections.connectErrors)}`,
  );
  lines.push(`  handshakes: ${Object.entries(r.handshakes).map(([k, v]) => `${k} ${v.connected}✓/${v.refused}✗`).join(', ') || 'none'}`);
  if (r.rss)
    lines.push(
      `  server RSS: start ${r.rss.startMb} MB, after warm-up ${r.rss.warmMb} MB, peak ${r.rss.peakMb} MB, end ${r.rss.endMb} MB: growth ${r.rss.growthPct} % (bound ${r.rss.boundPct} %, samples ${r.rss.method})` +
        (r.rss.heapWarmMb !== undefined ? `; V8 heap ${r.rss.heapWarmMb} → ${r.rss.heapEndMb} MB` : ''),
    );
  lines.push(`  server alive: ${r.alive ? 'yes' : 'NO'}; well-formed duel afterwards: ${r.afterCheck.ok ? 'ok' : 'FAILED'} (${r.afterCheck.ms} ms: ${r.afterCheck.detail})`);
  if (r.findingSummary.length === 0) lines.push('  findings: none');
  else {
    lines.push(`  findings (${r.findings.length}):`);
    for (const g of r.findingSummary.slice(0, 25)) {
      lines.push(`    [${g.type}] ×${g.count} ${g.detail}`);
      if (g.example.index !== undefined) lines.push(`        e.g. event #${g.example.index} ${g.example.kind}/${g.example.variant} ${g.example.event}: ${g.example.payload}`);
    }
  }
  lines.push(r.pass ? 'PASS' : 'FAIL');
  return lines.join('\n');
}

// ------------------------------------------------------------------ CLI

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const events = Number(args.events ?? 100_000);
  const seed = Number(args.seed ?? 42);
  const connections = Number(args.connections ?? 24);
  const exclude = args.exclude ? args.exclude.split(',').map((s) => s.trim()) : [];
  if (!Number.isInteger(events) || events <= 0 || events > 10_000_000) throw new Error('--events: a positive integer (at most 10,000,000)');
  const log = (line: string) => console.error(`[fuzz] ${line}`);

  let server: ServerProcess | undefined;
  let sim: { close(): Promise<void> } | undefined;
  let url = args.url;
  if (url && !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(url)) throw new Error('--url: only a local server (127.0.0.1) may be fuzzed');
  if (!url) {
    const { startSimulator } = await import('../server/sim/index.js');
    const simulator = await startSimulator({ flavor: 'ollama', models: FAST_MODELS, preloaded: true });
    sim = simulator;
    // Every connection comes from 127.0.0.1: per-address limits are raised so they do not hide
    // the rest; per-session and per-socket limits keep their defaults.
    server = await startServerProcess({
      simUrl: simulator.url,
      config: { limits: { connectionsPerMinutePerIp: 1_000_000, promptsPerMinutePerIp: 1_000_000 } },
    });
    url = server.url;
    log(`started dist/arena.mjs (pid ${server.proc.pid}) at ${url}`);
  }
  const pid = server?.proc.pid;
  let exited: string | undefined;
  server?.proc.once('exit', (code, signal) => (exited = `exit code ${code}, signal ${signal}`));

  // Whatever happens, the server and the simulator this run started stop with it.
  const cleanup = async () => {
    await server?.stop();
    await sim?.close();
  };
  cleanupOnSignal(cleanup);
  try {
    const report = await runFuzz({
      url,
      events,
      seed,
      connections,
      exclude,
      log,
      ...(pid ? { rss: () => procRss(pid), collect: () => server!.gc(), alive: () => exited === undefined } : {}),
    });
    console.log(formatReport(report));
    if (server) {
      if (exited) console.log(`server died (${exited}); its stderr:\n${server.stderr().slice(-4_000)}`);
      if (server.errors.length) {
        console.log(`server logged ${server.errors.length} error line(s), e.g.:`);
        for (const e of server.errors.slice(0, 5)) console.log(`  ${preview(e, 600)}`);
      }
    }
    if (args.json) writeFileSync(args.json, JSON.stringify({ ...report, serverErrors: server?.errors ?? [] }, null, 2));
    process.exitCode = report.pass && !server?.errors.length ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runIfMain(import.meta.url, main);
