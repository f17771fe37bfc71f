/** A fuzz run's shared state, its connections, and filling learnt ids into planned events. */
import type { Socket } from 'socket.io-client';
import type { Rng } from '../../server/random.js';
import type { Finding } from './checks.js';
import { ID_ALPHABET } from './generators.js';
import type { KnownBattle, Planned } from './plan.js';
import type { FuzzReport } from './run.js';

/** What a run counts; the traffic writes it, the run reads it for the report. */
export interface FuzzState {
  findings: Finding[];
  byKind: Record<string, number>;
  acks: FuzzReport['acks'];
  conn: FuzzReport['connections'];
  handshakes: FuzzReport['handshakes'];
  recent: Planned[];
  /** Handshakes and raw packets, on connections of their own. */
  recentSide: Planned[];
  sent: number;
  unencodable: number;
  inFlight: number;
  crashed: boolean;
}

export function newFuzzState(): FuzzState {
  return {
    findings: [],
    byKind: {},
    acks: { ok: 0, errors: {}, unansweredAfterClose: 0, silentAsExpected: 0, unexpectedReplies: 0 },
    conn: { opened: 0, closedByServer: 0, connectErrors: {} },
    handshakes: {},
    recent: [],
    recentSide: [],
    sent: 0,
    unencodable: 0,
    inFlight: 0,
    crashed: false,
  };
}

export interface TrafficOptions {
  url: string;
  seed: number;
  connections: number;
  ackTimeoutMs: number;
  maxInFlight: number;
  alive: () => boolean;
}

export interface Slot {
  index: number;
  session: string;
  socket?: Socket;
  connecting?: Promise<Socket | undefined>;
  /** Acks waiting on this socket: resolved with 'closed' when it disconnects. */
  pending: Set<(closed: 'closed') => void>;
}

/** Fills a planned event's empty battleId / token from the battles learnt so far (its `ids` rule), at send time. */
export function fillIds(ev: Planned, slot: number, battles: readonly KnownBattle[], live: Rng): void {
  if (!ev.ids || !ev.args.length) return;
  const payload = ev.args[0];
  if (!payload || typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload)) return;
  const p = payload as Record<string, unknown>;
  const own = battles.filter((b) => b.slot === slot);
  const foreign = battles.filter((b) => b.slot !== slot);
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
