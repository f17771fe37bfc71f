import type { Logger } from 'pino';
import type {
  AckResults,
  ArenaInfo,
  BattleEvent,
  BattleView,
  ParsedPayload,
  SeqEvent,
  Side,
  TournamentView,
} from '../../src/lib/shared/protocol.js';
import { SIDES } from '../../src/lib/shared/protocol.js';
import type { Metrics } from '../metrics.js';
import type { ChatMessage, ChatRequest, StreamPart } from '../providers/types.js';
import type { BattleRecord, SessionRecord, Store } from '../store/types.js';
import { allPairs, pairKey, unseenPairs } from './cycle.js';
import { fail } from './errors.js';
import { BattleEventLog } from './event-log.js';
import { newId, promptKey } from './ids.js';
import { LeakDetector } from './leak.js';
import { applyEvent, buildReveal, isSettled, newTurn, toView } from './record.js';
import { newTournament, nextRound, recordRound, tournamentView } from './tournament.js';

export type RoutedPart = StreamPart | { type: 'route'; deployment: string; attempt: number; resumed: boolean };

/** What the arena needs from the model layer (the registry implements it). */
export interface ArenaModels {
  available(): string[];
  describe(modelId: string): { label: string; demo: boolean };
  leakWords(modelId: string): string[];
  stream(modelId: string, req: Omit<ChatRequest, 'model'>): AsyncIterable<RoutedPart>;
}

export interface ArenaLimits {
  systemPrompt: string;
  maxPromptChars: number;
  maxTurns: number;
  battlesPerMinute: number;
  maxTokens: number;
}

/** Chooses the next pair among available models (strategy lives in server/rating/pairing). */
export type PairPicker = (models: string[], exclude: Set<string>) => [string, string] | null;

export interface BattleServiceDeps {
  store: Store;
  models: ArenaModels;
  limits: ArenaLimits;
  logger: Logger;
  metrics: Metrics;
  pickPair: PairPicker;
  /** Broadcast a frame to everyone in the battle's room. */
  broadcast(battleId: string, events: SeqEvent[]): void;
  /** Called after each stored vote (ratings recompute). */
  onVote?(battle: BattleRecord): void;
  coalesceMs?: number;
}

/** Who is asking: the session's hash, and how to subscribe the asking socket to a battle. */
export interface Caller {
  sessionHash: string;
  join(battleId: string): void;
}

interface LiveBattle {
  record: BattleRecord;
  log: BattleEventLog;
  controllers: Partial<Record<Side, AbortController>>;
  /** Bumped on stop/regenerate: events of an older run of a side are dropped. */
  runs: Record<Side, number>;
  lastActive: number;
}

const IDLE_EVICT_MS = 30 * 60_000;

/**
 * Battles: blind pairs, streaming both sides into the battle's ordered event log, votes,
 * "Next >" cycling and tournaments. Transport-agnostic: the realtime layer maps sockets to Callers.
 */
export class BattleService {
  private readonly live = new Map<string, LiveBattle>();
  private readonly recentStarts = new Map<string, number[]>();
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly deps: BattleServiceDeps) {
    this.sweeper = setInterval(() => this.evictIdle(), 60_000);
    this.sweeper.unref();
  }

  info(): ArenaInfo {
    const models = this.deps.models.available();
    return {
      demo: models.some((m) => this.deps.models.describe(m).demo),
      availableModels: models.length,
      tournamentModels: models.length,
    };
  }

  async state(caller: Caller): Promise<AckResults['session:state']> {
    const session = await this.session(caller.sessionHash);
    const battle = session.currentBattleId ? await this.findOwned(caller, session.currentBattleId, false) : null;
    if (battle) caller.join(battle.record.id);
    return { info: this.info(), ...(battle ? { battle: this.view(battle, true, session) } : {}) };
  }

  async start(caller: Caller, { prompt, mode }: ParsedPayload<'battle:start'>): Promise<AckResults['battle:start']> {
    this.checkPrompt(prompt);
    this.checkRate(caller.sessionHash);
    const session = await this.session(caller.sessionHash);
    const models = this.deps.models.available();
    if (models.length < 2) fail('unavailable', 'Fewer than two models are available right now. Try again shortly.');

    let pair: [string, string] | null;
    let groupId: string | undefined;
    if (mode === 'tournament') {
      const t = newTournament(newId(), prompt, shuffle(models));
      session.tournament = t;
      pair = nextRound(t);
      groupId = t.id;
    } else {
      session.tournament = undefined;
      pair = this.deps.pickPair(models, new Set());
    }
    if (!pair) fail('unavailable', 'No pair of models could be chosen.');
    const live = await this.create(caller, session, pair!, mode === 'tournament' ? 'tournament' : 'arena', groupId);
    this.markSeen(session, prompt, pair!);
    await this.deps.store.putSession(session);
    this.beginTurn(live, prompt);
    return { battle: this.view(live, true, session) };
  }

  async send(caller: Caller, { battleId, prompt }: ParsedPayload<'battle:send'>): Promise<object> {
    this.checkPrompt(prompt);
    const live = await this.ownedLive(caller, battleId);
    this.checkOpen(live.record);
    if (!isSettled(live.record)) fail('conflict', 'Wait for both answers to finish (or stop them) before sending a follow-up.');
    if (live.record.turns.length >= this.deps.limits.maxTurns)
      fail('limit', `This battle has reached ${this.deps.limits.maxTurns} turns. Vote, or start a new round.`);
    this.beginTurn(live, prompt);
    return {};
  }

  async stop(caller: Caller, { battleId, side }: ParsedPayload<'battle:stop'>): Promise<object> {
    const live = await this.ownedLive(caller, battleId);
    for (const s of side ? [side] : SIDES) live.controllers[s]?.abort();
    return {};
  }

  async regenerate(caller: Caller, { battleId }: ParsedPayload<'battle:regenerate'>): Promise<object> {
    const live = await this.ownedLive(caller, battleId);
    this.checkOpen(live.record);
    const turn = live.record.turns.length - 1;
    if (turn < 0) fail('conflict', 'Nothing to regenerate yet.');
    for (const s of SIDES) {
      live.runs[s]++;
      live.controllers[s]?.abort();
      live.controllers[s] = undefined;
    }
    this.beginTurn(live, live.record.turns[turn].prompt, turn);
    return {};
  }

  async vote(caller: Caller, { battleId, choice }: ParsedPayload<'battle:vote'>): Promise<AckResults['battle:vote']> {
    const owned = await this.findOwned(caller, battleId, true);
    const record = owned!.record;
    if (record.vote) fail('conflict', 'This battle already has a vote.');
    if (!isSettled(record)) fail('conflict', 'Both answers must finish (or be stopped) before you vote.');
    const at = Date.now();
    const result = await this.deps.store.recordVote(record, choice, at);
    if (result === 'already_voted') fail('conflict', 'This battle already has a vote.');
    if (result === 'not_found') fail('not_found', 'No such battle.');
    record.vote = { choice, at };
    const excluded = record.leak.left || record.leak.right;
    this.deps.metrics.votes.inc({ choice, excluded: String(excluded) });
    this.deps.logger.info({ battleId, choice, excluded }, 'vote stored');

    const tournament = await this.advanceTournament(caller.sessionHash, record, choice);
    const reveal = buildReveal(record, (m) => this.deps.models.describe(m));
    const live = this.liveOf(owned!);
    live.log.push({ t: 'vote', choice, reveal, ...(tournament ? { tournament } : {}) });
    void this.persist(live);
    this.deps.onVote?.(record);
    return { reveal, ...(tournament ? { tournament } : {}) };
  }

  async next(caller: Caller, { battleId }: ParsedPayload<'battle:next'>): Promise<AckResults['battle:next']> {
    const owned = await this.findOwned(caller, battleId, true);
    const previous = owned!.record;
    const prompt = previous.turns[0]?.prompt;
    if (!prompt) fail('conflict', 'This battle has no prompt to run again.');
    this.checkRate(caller.sessionHash);
    const session = await this.session(caller.sessionHash);
    const models = this.deps.models.available();
    if (models.length < 2) fail('unavailable', 'Fewer than two models are available right now.');

    let pair: [string, string] | null;
    let mode: BattleRecord['mode'] = 'cycle';
    let groupId = promptKey(prompt!);
    if (previous.mode === 'tournament') {
      const t = session.tournament;
      if (!t || t.id !== previous.groupId) fail('conflict', 'This tournament is no longer active.');
      if (!previous.vote) fail('conflict', 'Vote on this round before the next challenger enters.');
      if (t!.done) fail('conflict', 'The tournament is over: start a new one.');
      pair = nextRound(t!);
      mode = 'tournament';
      groupId = t!.id;
    } else {
      const seen = session.seenPairs[groupId] ?? [];
      const { pairs, restarted } = unseenPairs(models, seen);
      if (restarted) session.seenPairs[groupId] = [];
      const candidates = new Set(pairs.map(([a, b]) => pairKey(a, b)));
      const exclude = new Set(allPairs(models).map(([a, b]) => pairKey(a, b)).filter((k) => !candidates.has(k)));
      pair = this.deps.pickPair(models, exclude);
    }
    if (!pair) fail('unavailable', 'No further pair of models is available.');
    const live = await this.create(caller, session, pair!, mode, groupId);
    this.markSeen(session, prompt!, pair!);
    await this.deps.store.putSession(session);
    this.beginTurn(live, prompt!);
    return { battle: this.view(live, true, session) };
  }

  async resume(caller: Caller, { battleId, afterSeq }: ParsedPayload<'battle:resume'>) {
    const owned = await this.findOwned(caller, battleId, true);
    const live = this.liveOf(owned!);
    caller.join(battleId);
    const events = live.log.after(afterSeq);
    if (events) return { events };
    const session = await this.session(caller.sessionHash);
    return { events: [], battle: this.view(live, true, session) };
  }

  /** Stops every stream, flushes every log and persists every live battle. */
  async shutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const live of this.live.values()) for (const s of SIDES) live.controllers[s]?.abort();
    await Promise.allSettled(
      [...this.live.values()].map(async (live) => {
        for (const s of SIDES) this.endUnfinished(live, s);
        live.log.flush();
        live.log.dispose();
        await this.persist(live);
      }),
    );
  }

  activeStreams(): number {
    let n = 0;
    for (const live of this.live.values()) n += SIDES.filter((s) => live.controllers[s]).length;
    return n;
  }

  // ------------------------------------------------------------------ turns and streams

  private beginTurn(live: LiveBattle, prompt: string, turn = live.record.turns.length): void {
    live.lastActive = Date.now();
    live.log.push({ t: 'turn', turn, prompt });
    void this.persist(live);
    this.deps.metrics.activeBattles.set(this.countStreamingBattles() + 1);
    for (const side of SIDES) void this.runSide(live, side, turn);
  }

  private async runSide(live: LiveBattle, side: Side, turn: number): Promise<void> {
    const run = live.runs[side];
    const stale = () => live.runs[side] !== run;
    const push = (event: BattleEvent) => {
      if (!stale()) live.log.push(event);
    };
    const controller = new AbortController();
    live.controllers[side] = controller;
    const record = live.record;
    const modelId = record.models[side];
    const answer = () => record.turns[turn].answers[side];
    const leak = new LeakDetector(this.deps.models.leakWords(modelId));
    const { metrics } = this.deps;
    let streaming = false;
    let ended = false;
    const end = (status: 'done' | 'stopped' | 'error', error?: string) => {
      ended = true;
      push({ t: 'end', side, turn, status, ...(error ? { error } : {}) });
    };

    metrics.activeStreams.inc();
    try {
      const stream = this.deps.models.stream(modelId, {
        messages: this.history(record, side, turn),
        signal: controller.signal,
        maxTokens: this.deps.limits.maxTokens,
      });
      for await (const part of stream) {
        if (stale()) break;
        switch (part.type) {
          case 'route':
            answer().deployment = part.deployment;
            if (part.resumed) push({ t: 'status', side, turn, status: 'resumed' });
            break;
          case 'text':
          case 'reasoning':
            if (!streaming) {
              streaming = true;
              push({ t: 'status', side, turn, status: 'streaming' });
            }
            metrics.tokensRelayed.inc();
            push({ t: 'delta', side, turn, [part.type === 'text' ? 'text' : 'reasoning']: part.text });
            if (part.type === 'text' && !record.leak[side] && leak.feed(part.text)) push({ t: 'leak', side });
            break;
          case 'finish': {
            const a = answer();
            a.ttftMs = part.ttftMs;
            a.tokensPerSecond = part.tokensPerSecond;
            a.promptTokens = part.usage.promptTokens;
            a.completionTokens = part.usage.completionTokens;
            if (part.ttftMs !== undefined && a.deployment) metrics.ttft.observe({ deployment: a.deployment }, part.ttftMs / 1000);
            end('done');
            break;
          }
          case 'error':
            if (part.error.code === 'aborted') end('stopped');
            else {
              metrics.errors.inc({ type: part.error.code });
              this.deps.logger.warn({ battleId: record.id, side, code: part.error.code, err: part.error.message }, 'stream failed');
              end('error', neutralError(part.error.code));
            }
            break;
          case 'tool-call':
            break; // arena battles offer no tools
        }
        if (ended) break;
      }
    } catch (err) {
      metrics.errors.inc({ type: 'internal' });
      this.deps.logger.error({ battleId: record.id, side, err }, 'stream crashed');
      end('error', 'Internal error while streaming this answer.');
    } finally {
      metrics.activeStreams.dec();
      if (!stale()) {
        if (!ended) end(controller.signal.aborted ? 'stopped' : 'error', controller.signal.aborted ? undefined : 'The answer ended unexpectedly.');
        live.controllers[side] = undefined;
        live.log.flush();
        live.lastActive = Date.now();
        this.deps.metrics.activeBattles.set(this.countStreamingBattles());
        await this.persist(live);
      }
    }
  }

  /** Each side sees only its own past answers: the two conversations stay independent. */
  private history(record: BattleRecord, side: Side, turn: number): ChatMessage[] {
    const messages: ChatMessage[] = [];
    if (record.systemPrompt) messages.push({ role: 'system', content: record.systemPrompt });
    for (const t of record.turns.slice(0, turn)) {
      messages.push({ role: 'user', content: t.prompt });
      messages.push({ role: 'assistant', content: t.answers[side].text });
    }
    messages.push({ role: 'user', content: record.turns[turn].prompt });
    return messages;
  }

  private endUnfinished(live: LiveBattle, side: Side): void {
    const turn = live.record.turns.length - 1;
    const answer = live.record.turns[turn]?.answers[side];
    if (answer && !['done', 'stopped', 'error'].includes(answer.status)) {
      live.runs[side]++;
      live.log.push({ t: 'end', side, turn, status: 'stopped' });
    }
  }

  // ------------------------------------------------------------------ battles and sessions

  private async create(
    caller: Caller,
    session: SessionRecord,
    pair: [string, string],
    mode: BattleRecord['mode'],
    groupId?: string,
  ): Promise<LiveBattle> {
    const [left, right] = Math.random() < 0.5 ? pair : [pair[1], pair[0]];
    const record: BattleRecord = {
      id: newId(),
      sessionHash: caller.sessionHash,
      createdAt: Date.now(),
      mode,
      models: { left, right },
      systemPrompt: this.deps.limits.systemPrompt,
      turns: [],
      leak: { left: false, right: false },
      watchToken: newId(18),
      ...(groupId ? { groupId } : {}),
      lastSeq: 0,
    };
    const live = this.track(record);
    session.currentBattleId = record.id;
    if (mode === 'tournament' && session.tournament) session.tournament.battleIds.push(record.id);
    caller.join(record.id);
    this.deps.logger.info({ battleId: record.id, mode }, 'battle created');
    return live;
  }

  private track(record: BattleRecord): LiveBattle {
    const live: LiveBattle = {
      record,
      controllers: {},
      runs: { left: 0, right: 0 },
      lastActive: Date.now(),
      log: new BattleEventLog(record.lastSeq ?? 0, this.deps.coalesceMs ?? 5, (events, since) => {
        for (const e of events) applyEvent(record, e);
        record.lastSeq = events.at(-1)!.seq;
        this.deps.metrics.framesSent.inc();
        this.observeDelivery(record, events, since);
        this.deps.broadcast(record.id, events);
      }),
    };
    this.live.set(record.id, live);
    return live;
  }

  private observeDelivery(record: BattleRecord, events: SeqEvent[], since: number): void {
    const delta = events.find((e) => e.t === 'delta');
    if (!delta || delta.t !== 'delta') return;
    const deployment = record.turns[delta.turn]?.answers[delta.side].deployment ?? 'unknown';
    this.deps.metrics.tokenDelivery.observe({ deployment }, (performance.now() - since) / 1000);
  }

  /** A battle the caller owns, live or from the store; not-found either way so ids cannot be probed. */
  private async findOwned(caller: Caller, battleId: string, required: boolean): Promise<LiveBattle | { record: BattleRecord } | null> {
    const live = this.live.get(battleId);
    const record = live?.record ?? (await this.deps.store.getBattle(battleId));
    if (!record || record.sessionHash !== caller.sessionHash) {
      if (required) fail('not_found', 'No such battle in this session.');
      return null;
    }
    return live ?? { record };
  }

  private async ownedLive(caller: Caller, battleId: string): Promise<LiveBattle> {
    return this.liveOf((await this.findOwned(caller, battleId, true))!);
  }

  private liveOf(found: LiveBattle | { record: BattleRecord }): LiveBattle {
    if ('log' in found) return found;
    return this.live.get(found.record.id) ?? this.track(found.record);
  }

  private view(found: LiveBattle | { record: BattleRecord }, owner: boolean, session?: SessionRecord): BattleView {
    const live = this.liveOf(found);
    const record = live.record;
    const reveal = record.vote ? buildReveal(record, (m) => this.deps.models.describe(m)) : undefined;
    const view = toView(record, live.log.seq, reveal, owner);
    const t = session?.tournament;
    if (record.mode === 'tournament' && t && t.id === record.groupId) view.tournament = this.tournamentView(t);
    return view;
  }

  private async advanceTournament(sessionHash: string, record: BattleRecord, choice: ParsedPayload<'battle:vote'>['choice']): Promise<TournamentView | undefined> {
    if (record.mode !== 'tournament') return undefined;
    const session = await this.session(sessionHash);
    const t = session.tournament;
    if (!t || t.id !== record.groupId) return undefined;
    recordRound(t, record.models.left, record.models.right, choice);
    await this.deps.store.putSession(session);
    return this.tournamentView(t);
  }

  private tournamentView(t: NonNullable<SessionRecord['tournament']>): TournamentView {
    return tournamentView(t, (m) => this.deps.models.describe(m).label);
  }

  private async session(hash: string): Promise<SessionRecord> {
    return (await this.deps.store.getSession(hash)) ?? { hash, createdAt: Date.now(), seenPairs: {} };
  }

  private markSeen(session: SessionRecord, prompt: string, pair: [string, string]): void {
    const key = promptKey(prompt);
    const seen = (session.seenPairs[key] ??= []);
    const k = pairKey(...pair);
    if (!seen.includes(k)) seen.push(k);
    // Bounded: only the most recent prompts keep their cycle position.
    const keys = Object.keys(session.seenPairs);
    if (keys.length > 50) delete session.seenPairs[keys[0]];
  }

  private async persist(live: LiveBattle): Promise<void> {
    try {
      await this.deps.store.putBattle(live.record);
    } catch (err) {
      this.deps.metrics.errors.inc({ type: 'store' });
      this.deps.logger.error({ battleId: live.record.id, err }, 'failed to persist battle');
    }
  }

  private checkOpen(record: BattleRecord): void {
    if (record.vote) fail('conflict', 'This battle has been voted on: start a new round.');
    if (this.closing) fail('unavailable', 'The server is shutting down.');
  }

  private checkPrompt(prompt: string): void {
    if (this.closing) fail('unavailable', 'The server is shutting down.');
    if (prompt.length > this.deps.limits.maxPromptChars)
      fail('limit', `The prompt is ${prompt.length} characters; the limit is ${this.deps.limits.maxPromptChars}.`);
  }

  private checkRate(sessionHash: string): void {
    const now = Date.now();
    const recent = (this.recentStarts.get(sessionHash) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= this.deps.limits.battlesPerMinute)
      fail('rate_limited', `At most ${this.deps.limits.battlesPerMinute} battles a minute. Try again in a little while.`);
    recent.push(now);
    this.recentStarts.set(sessionHash, recent);
  }

  private countStreamingBattles(): number {
    let n = 0;
    for (const live of this.live.values()) if (live.controllers.left || live.controllers.right) n++;
    return n;
  }

  private evictIdle(): void {
    const cutoff = Date.now() - IDLE_EVICT_MS;
    for (const [id, live] of this.live) {
      if (live.lastActive < cutoff && !live.controllers.left && !live.controllers.right) {
        live.log.dispose();
        this.live.delete(id);
      }
    }
    for (const [hash, starts] of this.recentStarts) if (starts.every((t) => Date.now() - t > 60_000)) this.recentStarts.delete(hash);
  }
}

/** Before the vote an error must not name a model or backend: say only what kind of failure it was. */
function neutralError(code: string): string {
  switch (code) {
    case 'busy':
      return 'The model is busy right now. Regenerate to try again.';
    case 'first_token_timeout':
    case 'idle_timeout':
    case 'connect_timeout':
      return 'The model took too long to answer.';
    default:
      return 'The model failed to answer.';
  }
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
