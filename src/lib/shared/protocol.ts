/**
 * The one contract between the Arena server and every client (UI, spectators, benchmarks).
 * Every Socket.IO event is typed here, and every client→server payload has a zod schema the
 * server validates against before any handler runs. The UI imports only types from this file.
 * Status and leaderboard shapes live beside it (status.ts, leaderboard.ts). The server's code
 * imports the contract, never the other way round.
 */
import { z } from 'zod';
import type { Leaderboard, LeaderboardRow } from './leaderboard.js';
import type { PublicStatus, StatusSnapshot } from './status.js';

export type { Leaderboard, LeaderboardRow, PublicStatus, StatusSnapshot };
export type Side = 'left' | 'right';
export const SIDES: readonly Side[] = ['left', 'right'];
export type VoteChoice = 'left' | 'right' | 'tie' | 'bothbad';
/** `stopped`: the user's own Stop (a normal answer); `interrupted`: cut by anything else (restart, takeover, backend death). */
export type AnswerStatus = 'pending' | 'loading' | 'streaming' | 'done' | 'stopped' | 'interrupted' | 'error';
/** How a side's answer ended. */
export type EndStatus = 'done' | 'stopped' | 'interrupted' | 'error';
/** Why a stored vote is kept out of the ratings. */
export type UncountedReason = 'identity_leak' | 'answer_failed';
export type BattleMode = 'arena' | 'cycle' | 'tournament' | 'tools' | 'named';
/** The user's routing toggle: let the router decide, or force a duel / the tool-calling model. */
export type RouteMode = 'auto' | 'arena' | 'tools';

/** Why a prompt went where it went (shown to the user, who may override it). */
export interface RouteInfo {
  route: 'arena' | 'tools';
  layer: 'explicit' | 'rules' | 'classifier' | 'llm';
  reason: string;
  confidence: number;
  /** The router chose tools but the tools path is off, so the prompt went to the arena. */
  toolsUnavailable?: string;
}

/** One tool call of the tools path, as it streams: the call first, its result when it returns. */
export interface ToolCallView {
  id: string;
  name: string;
  arguments: Record<string, unknown>;
  ok?: boolean;
  result?: unknown;
  error?: string;
  ms?: number;
}

// ---------------------------------------------------------------- errors and acks

export type ErrorCode =
  | 'bad_request' // payload failed validation
  | 'not_found' // no such battle (or not yours: we do not say which)
  | 'forbidden' // spectator attempting an owner action, etc.
  | 'conflict' // e.g. already voted, stream still running
  | 'limit' // prompt too long, too many turns
  | 'answer_failed' // a side failed or was cut off: only "both bad" can be recorded
  | 'rate_limited'
  | 'unavailable' // fewer than two models available, backend failure
  | 'internal';

export interface ArenaError {
  code: ErrorCode;
  message: string;
  /** With `unavailable` when the shared storage (Redis) is down: seconds until a retry may succeed. */
  retryAfterSeconds?: number;
}

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: ArenaError };
export type AckFn<T extends object = object> = (res: Ack<T>) => void;

// ---------------------------------------------------------------- views (blind until the vote)

export interface AnswerView {
  text: string;
  reasoning: string;
  status: AnswerStatus;
  error?: string;
  /** Continued on another backend after a failure: a neutral marker, no identity. */
  resumed?: boolean;
  /** Tools path only: the tool calls made while answering, in order. */
  tools?: ToolCallView[];
}

export interface TurnView {
  prompt: string;
  answers: Record<Side, AnswerView>;
  /** Before the vote: some side's model is reasoning (never which); its text comes with the reveal. */
  thinking?: boolean;
}

/** Sent only after the vote. */
export interface SideReveal {
  model: string;
  label: string;
  deployment: string;
  demo: boolean;
  ttftMs?: number;
  tokensPerSecond?: number;
  completionTokens?: number;
  /** Each turn's reasoning, withheld until the vote (absent when the model did not reason). */
  reasoning?: string[];
}
export type Reveal = Record<Side, SideReveal>;

export interface TournamentView {
  id: string;
  round: number;
  rounds: number;
  done: boolean;
  /** Final ranking, only when done (names are all revealed by then). */
  ranking?: {
    model: string;
    label: string;
    wins: number;
    /** The round it went out in, and to whom (absent for the champion). */
    outRound?: number;
    lostTo?: string;
    /** The models it knocked out, in round order. */
    beat?: string[];
  }[];
}

export interface BattleView {
  id: string;
  mode: BattleMode;
  turns: TurnView[];
  leak: Record<Side, boolean>;
  vote?: VoteChoice;
  reveal?: Reveal;
  /** Highest event sequence number reflected in this view: resume streaming after it. */
  seq: number;
  /** Owner only: the spectator share path (/watch/<id>?t=<capability>). */
  sharePath?: string;
  tournament?: TournamentView;
  /** How the router decided (absent for tournaments and Next). */
  route?: RouteInfo;
  /** Tools path only (not blind, never rated): the model answering, shown from the start. */
  toolModel?: string;
  /** Side by side by name (not blind, never rated): the two models, shown from the start. */
  named?: Record<Side, string>;
}

// ---------------------------------------------------------------- ordered battle events

/** One battle's event log entry. `seq` increases by 1 per event within a battle. */
export type BattleEvent =
  | { t: 'turn'; turn: number; prompt: string }
  | { t: 'status'; side: Side; turn: number; status: 'loading' | 'streaming' | 'resumed' }
  | { t: 'delta'; side: Side; turn: number; text?: string; reasoning?: string }
  /** Some side is reasoning (`active`) or none is any more; blind battles send this instead of reasoning deltas. */
  | { t: 'thinking'; turn: number; active: boolean }
  | { t: 'end'; side: Side; turn: number; status: EndStatus; error?: string }
  | { t: 'leak'; side: Side }
  | { t: 'tool-call'; side: Side; turn: number; id: string; name: string; arguments: Record<string, unknown> }
  | { t: 'tool-result'; side: Side; turn: number; id: string; ok: boolean; result?: unknown; error?: string; ms: number }
  | { t: 'vote'; choice: VoteChoice; reveal: Reveal; tournament?: TournamentView };
export type SeqEvent = BattleEvent & { seq: number };

/** Events are coalesced into short batches: one frame carries one or more consecutive events. */
export interface EventsFrame {
  battleId: string;
  events: SeqEvent[];
}

/** Spectators' votes, shown apart and never counted in ratings. */
export type CrowdTally = Record<VoteChoice, number>;

export interface ArenaInfo {
  demo: boolean;
  /** Whether questions that need tools can go to a tool-calling model, and why not. */
  tools: { enabled: boolean; model?: string; reason?: string };
  /** How many arena models are available right now (no names: that would hint identities). */
  availableModels: number;
  tournamentModels: number;
  /** exportAccess is `public`: anyone can download every stored conversation (the page says so). */
  publicExport: boolean;
  /** The operator's data notice, shown before a visitor's first prompt (absent when switched off). */
  dataNotice?: string;
}

/** One of the session's past battles. Names only once voted on (or on the named tools path). */
export interface BattleSummary {
  id: string;
  createdAt: number;
  mode: BattleMode;
  /** The first prompt. */
  prompt: string;
  vote?: VoteChoice;
  names?: Partial<Record<Side, string>>;
  /** The watch link: reopens the battle (with its reveal) and can be shared. */
  sharePath: string;
}

// ---------------------------------------------------------------- client → server payloads

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/, 'not an id');
const prompt = z.string().trim().min(1, 'prompt is empty').max(100_000);
const side = z.enum(['left', 'right']);

export const ClientSchemas = {
  'session:state': z.object({}).strict(),
  'session:history': z.object({}).strict(),
  'battle:start': z
    .object({
      prompt,
      mode: z.enum(['arena', 'tournament']).default('arena'),
      route: z.enum(['auto', 'arena', 'tools']).default('auto'),
      /** Two models by id: a named side-by-side comparison instead of a blind duel (not rated). */
      models: z.tuple([z.string().min(1).max(200), z.string().min(1).max(200)]).optional(),
    })
    .strict(),
  'battle:send': z.object({ battleId: id, prompt }).strict(),
  'battle:stop': z.object({ battleId: id, side: side.optional() }).strict(),
  'battle:regenerate': z.object({ battleId: id }).strict(),
  'battle:vote': z.object({ battleId: id, choice: z.enum(['left', 'right', 'tie', 'bothbad']) }).strict(),
  'battle:next': z.object({ battleId: id }).strict(),
  'battle:resume': z.object({ battleId: id, afterSeq: z.number().int().min(0) }).strict(),
  'leaderboard:subscribe': z
    .object({
      excludeTies: z.boolean().default(false),
      /** "overall", a topic or "lang:<code>" (Leaderboard.categories lists those with votes). */
      category: z.string().max(40).regex(/^[a-z_]+(:[a-z]{3})?$/, 'not a category').default('overall'),
    })
    .strict(),
  'status:subscribe': z.object({}).strict(),
  'models:list': z.object({}).strict(),
  'watch:join': z.object({ battleId: id, token: id }).strict(),
  'watch:vote': z.object({ battleId: id, token: id, choice: z.enum(['left', 'right', 'tie', 'bothbad']) }).strict(),
} as const;

export type ClientEventName = keyof typeof ClientSchemas;
export type ClientPayload<E extends ClientEventName> = z.input<(typeof ClientSchemas)[E]>;
export type ParsedPayload<E extends ClientEventName> = z.output<(typeof ClientSchemas)[E]>;

/** What each client event's ack carries on success. */
export interface AckResults {
  'session:state': { info: ArenaInfo; battle?: BattleView };
  /** The session's own battles, newest first ("My battles"). */
  'session:history': { battles: BattleSummary[] };
  'battle:start': { battle: BattleView };
  'battle:send': object;
  'battle:stop': object;
  'battle:regenerate': object;
  /** `counted: false` when the vote is stored but kept out of the ratings, and `reason` says why. */
  'battle:vote': { reveal: Reveal; tournament?: TournamentView; counted: boolean; reason?: UncountedReason };
  'battle:next': { battle: BattleView };
  /** `battle` replaces the client's view when the events after `afterSeq` are no longer held. */
  'battle:resume': { events: SeqEvent[]; battle?: BattleView };
  'leaderboard:subscribe': { board: Leaderboard };
  'status:subscribe': { status: PublicStatus };
  /** The available arena models by name, for the named side-by-side mode. */
  'models:list': { models: { id: string; label: string }[] };
  /** A spectator's read-only view; live events follow in `battle:events`. */
  'watch:join': { battle: BattleView; viewers: number; crowd: CrowdTally };
  'watch:vote': { crowd: CrowdTally };
}

export type ClientToServerEvents = {
  [E in ClientEventName]: (payload: ClientPayload<E>, ack: AckFn<AckResults[E]>) => void;
};

export interface ServerToClientEvents {
  'battle:events': (frame: EventsFrame) => void;
  'leaderboard:update': (board: Leaderboard) => void;
  'info:update': (info: ArenaInfo) => void;
  /** Spectators watching a battle now (all instances). */
  'battle:viewers': (update: { battleId: string; count: number }) => void;
  'battle:crowd': (update: { battleId: string; crowd: CrowdTally }) => void;
  /**
   * Replace your view of this battle: another instance took it over and some events you got from
   * the previous one were never stored. Later frames continue from `battle.seq`.
   */
  'battle:reset': (update: { battleId: string; battle: BattleView }) => void;
  /** Backend health (public view), pushed to `status:subscribe`rs whenever it changes. */
  'status:update': (status: PublicStatus) => void;
}

/** Socket.IO handshake `auth` payload for clients that cannot carry the session cookie. */
export interface HandshakeAuth {
  session?: string;
}

export const SESSION_COOKIE = 'arena_session';
