/** The fuzzer's view of the protocol and its hostile values (scripts/fuzz.ts). */
import { ClientSchemas, type ClientEventName } from '../../src/lib/shared/protocol.js';
import type { Rng } from '../../server/random.js';

export const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';


/** Every client event the server validates, read from the protocol itself (new ones are fuzzed too). */
export const KNOWN_EVENTS = Object.keys(ClientSchemas) as KnownEvent[];
export type KnownEvent = ClientEventName;

/** What a zod schema accepts, as far as the fuzzer needs to know (zod 4 introspection). */
export type FieldKind = { type: 'enum'; options: string[] } | { type: 'string' | 'number' | 'boolean' | 'other' };
export function fieldKind(schema: unknown): FieldKind {
  let s = schema as { def: { type: string; innerType?: unknown }; options?: string[] };
  while (['default', 'optional', 'prefault', 'nullable'].includes(s.def.type)) s = s.def.innerType as typeof s;
  if (s.def.type === 'enum') return { type: 'enum', options: s.options ?? [] };
  if (s.def.type === 'string' || s.def.type === 'number' || s.def.type === 'boolean') return { type: s.def.type };
  return { type: 'other' };
}
export const SHAPES = Object.fromEntries(
  KNOWN_EVENTS.map((e) => {
    const shape = (ClientSchemas[e] as unknown as { shape: Record<string, unknown> }).shape;
    return [e, Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, fieldKind(v)]))];
  }),
) as Record<KnownEvent, Record<string, FieldKind>>;

export const ERROR_CODES = ['bad_request', 'not_found', 'forbidden', 'conflict', 'limit', 'answer_failed', 'rate_limited', 'unavailable', 'internal'];

/** Names no handler listens to: typos, server-side events, Object.prototype and EventEmitter names. */
export const UNKNOWN_EVENTS = [
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

export const FIELD_BY_EVENT = Object.fromEntries(KNOWN_EVENTS.map((e) => [e, Object.keys(SHAPES[e])])) as Record<KnownEvent, string[]>;

// ------------------------------------------------------------------ hostile values

export const WEIRD_NUMBERS = [
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

export const NASTY_STRINGS = [
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

export function unicodeGarbage(rng: Rng, length: number): string {
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

export function nastyString(rng: Rng): string {
  return rng.chance(0.6) ? rng.pick(NASTY_STRINGS) : unicodeGarbage(rng, rng.int(1, 400));
}

/** Any JSON-ish value, occasionally binary. */
export function anyValue(rng: Rng, depth = 0): unknown {
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
export function wrongTypeFor(rng: Rng, field: string): unknown {
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
export function nested(depth: number, objects: boolean): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = objects ? { a: value } : [value];
  return value;
}

/** The same, as JSON text (deeper than a client-side JSON.stringify could walk). */
export function nestedJson(depth: number, objects: boolean): string {
  return objects ? `${'{"a":'.repeat(depth)}"bottom"${'}'.repeat(depth)}` : `${'['.repeat(depth)}"bottom"${']'.repeat(depth)}`;
}

/** JSON.parse keeps `__proto__` as an own key, which a JS literal cannot. */
export const PROTO_POLLUTION = () => JSON.parse('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}') as Record<string, unknown>;
