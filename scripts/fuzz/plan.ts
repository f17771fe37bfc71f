/** The deterministic plan of fuzz events: event #n depends on the seed alone (scripts/fuzz.ts). */
import { Rng } from '../../server/random.js';
import {
  anyValue,
  FIELD_BY_EVENT,
  ID_ALPHABET,
  KNOWN_EVENTS,
  nastyString,
  NASTY_STRINGS,
  nested,
  nestedJson,
  PROTO_POLLUTION,
  SHAPES,
  UNKNOWN_EVENTS,
  unicodeGarbage,
  WEIRD_NUMBERS,
  wrongTypeFor,
  type KnownEvent,
} from './generators.js';

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

export const WEIGHTS: Record<FuzzKind, number> = {
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
export type Expect =
  /** An ack must come back, unless the connection closes first. */
  | 'reply'
  /** No ack function reaches a handler: nothing may come back, nothing may break. */
  | 'silent'
  /** The server may close this connection (oversized or malformed packet). */
  | 'mayClose';

export interface Planned {
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

export interface KnownBattle {
  id: string;
  token: string;
  slot: number;
}

/** A payload the schema accepts (battleId and token are filled in at send time). */
export function validPayload(rng: Rng, event: KnownEvent): Record<string, unknown> {
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
export const EVENT_WEIGHTS: Partial<Record<KnownEvent, number>> = { 'session:state': 3, 'battle:start': 2, 'battle:vote': 2, 'battle:resume': 2, 'watch:join': 2 };
export function pickKnownEvent(rng: Rng): KnownEvent {
  return rng.weighted<KnownEvent>(Object.fromEntries(KNOWN_EVENTS.map((e) => [e, EVENT_WEIGHTS[e] ?? 1])) as Record<KnownEvent, number>);
}

export const HANDSHAKES: { variant: string; auth?: () => unknown; headers?: () => Record<string, string>; shouldConnect: boolean | null }[] = [
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

export const SIZES = [8_001, 100_001, 200_000, 255 * 1024, 257 * 1024, 400 * 1024];

export function rawPackets(rng: Rng, ackId: number): { variant: string; frames: (string | Buffer)[]; engineLevel?: boolean; ackId?: number } {
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

export function plan(rng: Rng, index: number): Planned {
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
