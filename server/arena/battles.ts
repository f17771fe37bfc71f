import { timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type {
  Ack,
  AckResults,
  ArenaInfo,
  BattleSummary,
  BattleView,
  ParsedPayload,
  RouteInfo,
  SeqEvent,
  Side,
  TournamentView,
} from '../../src/lib/shared/protocol.js';
import { SIDES } from '../../src/lib/shared/protocol.js';
import { choiceAllowed, failedSides, uncountedReason } from '../../src/lib/shared/vote-rules.js';
import { categorizeStart, classifyVotedBattle } from '../classify/battle.js';
import type { Cluster } from '../cluster/types.js';
import type { Metrics } from '../metrics.js';
import type { RoutedPart } from '../models/failover.js';
import type { ChatMessage, ChatRequest } from '../providers/types.js';
import type { ToolPath } from '../router/tool-path.js';
import { boundArguments } from '../tools/event-arguments.js';
import type { BattleRecord, SessionRecord, Store } from '../store/types.js';
import { allPairs, pairKey, unseenPairs } from './cycle.js';
import { isRedisUnavailable, REDIS_RETRY_AFTER_SECONDS } from '../redis.js';
import { ArenaFailure, fail, sharedStateUnavailable } from './errors.js';
import { BattleEventLog } from './event-log.js';
import { newId, promptKey } from './ids.js';
import { claimsIdentity } from './leak.js';
import { SideRun, USER_STOP, type RunHost } from './side-run.js';
import { ThinkingIndicator } from './thinking.js';
import { MatchedPacer } from './pacer.js';
import { battleSummary, HISTORY_LENGTH } from './history.js';
import { applyEvent, buildReveal, isEnded, isSettled, sidesOf, toView } from './record.js';
import { newTournament, nextRound, recordRound, tournamentView } from './tournament.js';
import { runInBackground } from '../background.js';

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
  maxTokens: number;
  /** `matched`: both sides' text at the slower side's pace (pacer.ts). */
  pacing?: 'off' | 'matched';
  /** Terms shown before a visitor's first prompt; empty or absent = none. */
  dataNotice?: string;
}

/** Chooses the next pair among available models (strategy lives in server/rating/pairing). */
export type PairPicker = (models: string[], exclude: Set<string>) => [string, string] | null;

/** An owner action sent to the instance that runs the battle. */
export interface RemoteAction {
  action: 'send' | 'stop' | 'regenerate' | 'vote';
  battleId: string;
  sessionHash: string;
  payload: Record<string, unknown>;
}

export interface BattleServiceDeps {
  store: Store;
  cluster: Cluster;
  models: ArenaModels;
  limits: ArenaLimits;
  logger: Logger;
  metrics: Metrics;
  pickPair: PairPicker;
  /** Broadcast a frame to everyone in the battle's room, on every instance. */
  broadcast(battleId: string, events: SeqEvent[]): void;
  /** Send a frame to the battle's room on the other instances only (events stored after an outage). */
  broadcastRemote?(battleId: string, events: SeqEvent[]): void;
  /**
   * This instance lost a battle to another (fenced): its own sockets may hold events that were never
   * stored, so they get the stored view (the owner's and a spectator's) to replace theirs.
   */
  resync?(battleId: string, views: { sessionHash: string; owner: BattleView; spectator: BattleView }): void;
  /** Ask the other instances to run an owner action; the owner's ack, or null when none owns it. */
  forward(action: RemoteAction): Promise<Ack | null>;
  /** Called after each stored vote (ratings recompute). */
  onVote?(battle: BattleRecord): void;
  /** The router and the tool-calling model; without it every prompt goes to the arena. */
  tools?: ToolPath;
  /** Conversations are downloadable without the admin token (`exportAccess: public`). */
  publicExport?: boolean;
}

/** Who is asking: the session's hash, and how to subscribe the asking socket to a battle. */
export interface Caller {
  sessionHash: string;
  /** Resolves once the socket gets the battle's frames from every instance: read the battle only after. */
  join(battleId: string): Promise<void>;
}

interface LiveBattle {
  record: BattleRecord;
  log: BattleEventLog;
  controllers: Partial<Record<Side, AbortController>>;
  /** Bumped on stop/regenerate/hand-off: events of an older run of a side are dropped. */
  runs: Record<Side, number>;
  lastActive: number;
  /** Shared mode: frames go out only after their log entries are stored, in order. */
  outbox: Promise<void>;
  /** The current turn's blind reasoning state (thinking.ts). */
  thinking?: ThinkingIndicator;
  /** `arena.pacing: matched`: the current turn's pacer (pacer.ts). */
  pacer?: MatchedPacer;
}

/** The one answer for an unknown id and for another session's battle. */
const NO_SUCH_BATTLE = 'No such battle.';
const FAILED_ANSWER_VOTE =
  'An answer failed or was cut off, so it cannot win or tie. Regenerate for a fair comparison, or vote "Both are bad" (stored, not counted in the ratings).';

/**
 * An idle battle leaves memory (and, with several instances, gives up its lease) after this long;
 * it comes back from the store and its log on the next action. Short, so memory and lease renewals
 * follow the battles actually streaming, not every battle of the last minutes.
 */
const IDLE_EVICT_MS = 2 * 60_000;
const ORPHAN_SCAN_MS = 1_000;

/**
 * Battles: blind pairs, streaming both sides into the battle's ordered event log, votes,
 * "Next >" cycling, tournaments and spectators. Transport-agnostic: the realtime layer maps
 * sockets to Callers. With several instances, the one holding a battle's lease runs its streams;
 * the others forward owner actions to it and read its log from the cluster.
 */
export class BattleService {
  private readonly live = new Map<string, LiveBattle>();
  private readonly timers: NodeJS.Timeout[] = [];
  private closing = false;

  constructor(private readonly deps: BattleServiceDeps) {
    this.every(15_000, () => this.evictIdle());
    if (deps.cluster.shared) {
      deps.cluster.startHeartbeat(
        () => [...this.live.values()].map((l) => ({ id: l.record.id, streaming: isStreaming(l) })),
        (id) => this.drop(id),
      );
      this.every(ORPHAN_SCAN_MS, () => this.adoptOrphans());
      deps.cluster.onLateStore?.((battleId, events) => deps.broadcastRemote?.(battleId, events));
    }
  }

  info(): ArenaInfo {
    const models = this.deps.models.available();
    return {
      demo: models.some((m) => this.deps.models.describe(m).demo),
      tools: this.deps.tools?.status() ?? { enabled: false, reason: 'The tools path is not configured.' },
      availableModels: models.length,
      tournamentModels: models.length,
      publicExport: this.deps.publicExport ?? false,
      ...(this.deps.limits.dataNotice ? { dataNotice: this.deps.limits.dataNotice } : {}),
    };
  }

  // ------------------------------------------------------------------ reads (any instance)

  async state(caller: Caller): Promise<AckResults['session:state']> {
    const session = await this.session(caller.sessionHash);
    // The session's own battle: subscribe first, so nothing published after the read is missed.
    if (session.currentBattleId) await caller.join(session.currentBattleId);
    const record = session.currentBattleId ? await this.currentRecord(session.currentBattleId) : null;
    if (!record || record.record.sessionHash !== caller.sessionHash) return { info: this.info() };
    return { info: this.info(), battle: this.view(record.record, record.seq, true, session) };
  }

  /** The available arena models by name, for the named side-by-side mode (never for blind duels). */
  modelList(): AckResults['models:list'] {
    return { models: this.deps.models.available().map((id) => ({ id, label: this.deps.models.describe(id).label })) };
  }

  async sessionHistory(caller: Caller): Promise<AckResults['session:history']> {
    const session = await this.session(caller.sessionHash);
    const battles: BattleSummary[] = [];
    for (const id of [...(session.history ?? [])].reverse()) {
      const current = await this.currentRecord(id);
      if (current && current.record.sessionHash === caller.sessionHash) {
        battles.push(battleSummary(current.record, (m) => this.deps.models.describe(m).label));
      }
    }
    return { battles };
  }

  async resume(caller: Caller, { battleId, afterSeq }: ParsedPayload<'battle:resume'>): Promise<AckResults['battle:resume']> {
    const current = await this.currentRecord(battleId);
    if (!current) fail('not_found', NO_SUCH_BATTLE);
    this.checkOwner(caller, current!.record);
    await caller.join(battleId);
    // A client ahead of the log saw events a dead holder never stored: it needs the stored view.
    const events = afterSeq <= current!.seq ? await this.eventsAfter(battleId, afterSeq) : null;
    if (events) return { events };
    const now = (await this.currentRecord(battleId)) ?? current!;
    return { events: [], battle: this.view(now.record, now.seq, true, await this.session(caller.sessionHash)) };
  }

  /** A spectator with the share link's capability: a read-only view, then live events. */
  async watch(caller: Caller, { battleId, token }: ParsedPayload<'watch:join'>) {
    const checked = await this.currentRecord(battleId);
    if (!checked || !sameSecret(checked.record.watchToken, token)) fail('not_found', 'This watch link is not valid.');
    // Subscribed first, read second: every event is either in the view or arrives as a frame
    // (a frame goes out only after its log entry is stored). The client drops duplicates by seq.
    await caller.join(battleId);
    const current = (await this.currentRecord(battleId)) ?? checked!;
    return { battle: this.view(current.record, current.seq, false), crowd: await this.deps.store.crowdTally(battleId) };
  }

  async crowdVote(caller: Caller, { battleId, token, choice }: ParsedPayload<'watch:vote'>) {
    const current = await this.currentRecord(battleId);
    if (!current || !sameSecret(current.record.watchToken, token)) fail('not_found', 'This watch link is not valid.');
    const record = current!.record;
    if (record.sessionHash === caller.sessionHash) fail('forbidden', 'You own this battle: cast your vote in the arena.');
    if (!isSettled(record)) fail('conflict', 'Wait for both answers to finish before voting.');
    // After the owner's vote the names are public: a crowd vote then would not be blind.
    if (record.vote) fail('conflict', 'Crowd voting closed when the names were revealed.');
    if (record.mode === 'named') fail('conflict', 'A side-by-side comparison by name is not blind: it takes no crowd vote.');
    if ((await this.deps.store.recordCrowdVote(battleId, caller.sessionHash, choice)) === 'already_voted')
      fail('conflict', 'You already cast a crowd vote on this battle.');
    return { crowd: await this.deps.store.crowdTally(battleId) };
  }

  // ------------------------------------------------------------------ new battles (any instance)

  async start(caller: Caller, payload: ParsedPayload<'battle:start'>): Promise<AckResults['battle:start']> {
    this.checkPrompt(payload.prompt);
    const session = await this.session(caller.sessionHash);
    if (payload.mode === 'tournament') {
      const models = this.availableModels();
      session.tournament = newTournament(newId(), payload.prompt, shuffle(models));
      const pair = nextRound(session.tournament);
      return { battle: await this.open(caller, session, { pair, mode: 'tournament', groupId: session.tournament.id, prompt: payload.prompt }) };
    }
    session.tournament = undefined;
    if (payload.models) return { battle: await this.openNamed(caller, session, payload.models, payload.prompt) };
    const { prompt, route } = await this.route(payload.prompt, payload.route);
    if (route?.route === 'tools' && !route.toolsUnavailable) {
      const model = this.deps.tools!.status().model!;
      return { battle: await this.open(caller, session, { pair: [model, ''], mode: 'tools', prompt, route }) };
    }
    const pair = this.deps.pickPair(this.availableModels(), new Set());
    return { battle: await this.open(caller, session, { pair, mode: 'arena', prompt, route }) };
  }

  /** The router's decision; a tools decision falls back to the arena (saying why) when the tools path is off. */
  private async route(input: string, mode: ParsedPayload<'battle:start'>['route']): Promise<{ prompt: string; route?: RouteInfo }> {
    if (!this.deps.tools) return { prompt: input };
    const { prompt, ...decision } = await this.deps.tools.decide(input, mode);
    if (!prompt.trim()) fail('bad_request', 'prompt: prompt is empty');
    const route: RouteInfo = { route: decision.route, layer: decision.layer, reason: decision.reason, confidence: decision.confidence };
    if (decision.route === 'tools') {
      const status = this.deps.tools.status();
      // A tools backend that does not answer would fail the prompt: two healthy models answer instead.
      const down = status.enabled ? await this.deps.tools.unavailable() : status.reason;
      if (down) route.toolsUnavailable = down;
    }
    return { prompt, route };
  }

  async next(caller: Caller, { battleId }: ParsedPayload<'battle:next'>): Promise<AckResults['battle:next']> {
    const current = await this.currentRecord(battleId);
    if (!current) fail('not_found', NO_SUCH_BATTLE);
    const previous = current!.record;
    this.checkOwner(caller, previous);
    const prompt = previous.turns[0]?.prompt;
    if (!prompt) fail('conflict', 'This battle has no prompt to run again.');
    if (previous.mode === 'named') fail('conflict', 'A side-by-side comparison has no next pair: pick two models again.');
    if (previous.mode === 'tools') fail('conflict', 'Answers on the tools path have no next pair: ask in the arena for a duel.');
    const session = await this.session(caller.sessionHash);
    const models = this.availableModels();

    if (previous.mode === 'tournament') {
      const t = session.tournament;
      if (!t || t.id !== previous.groupId) fail('conflict', 'This tournament is no longer active.');
      if (!previous.vote) fail('conflict', 'Vote on this round before the next challenger enters.');
      if (t!.done) fail('conflict', 'The tournament is over: start a new one.');
      return { battle: await this.open(caller, session, { pair: nextRound(t!), mode: 'tournament', groupId: t!.id, prompt: prompt! }) };
    }
    const group = promptKey(prompt!);
    const { pairs, restarted } = unseenPairs(models, session.seenPairs[group] ?? []);
    if (restarted) session.seenPairs[group] = [];
    const candidates = new Set(pairs.map(([a, b]) => pairKey(a, b)));
    const exclude = new Set(allPairs(models).map(([a, b]) => pairKey(a, b)).filter((k) => !candidates.has(k)));
    return { battle: await this.open(caller, session, { pair: this.deps.pickPair(models, exclude), mode: 'cycle', groupId: group, prompt: prompt! }) };
  }

  // ------------------------------------------------------------------ owner actions (the owning instance)

  send(caller: Caller, p: ParsedPayload<'battle:send'>): Promise<object> {
    return this.asOwner(caller, 'send', p, async (live) => {
      this.checkPrompt(p.prompt);
      this.checkOpen(live.record);
      if (!isSettled(live.record)) fail('conflict', 'Wait for both answers to finish (or stop them) before sending a follow-up.');
      if (live.record.turns.length >= this.deps.limits.maxTurns)
        fail('limit', `This battle has reached ${this.deps.limits.maxTurns} turns. Vote, or start a new round.`);
      this.beginTurn(live, p.prompt);
      return {};
    });
  }

  stop(caller: Caller, p: ParsedPayload<'battle:stop'>): Promise<object> {
    return this.asOwner(caller, 'stop', p, async (live) => {
      for (const s of p.side ? [p.side] : SIDES) live.controllers[s]?.abort(USER_STOP);
      return {};
    });
  }

  regenerate(caller: Caller, p: ParsedPayload<'battle:regenerate'>): Promise<object> {
    return this.asOwner(caller, 'regenerate', p, async (live) => {
      this.checkOpen(live.record);
      const turn = live.record.turns.length - 1;
      if (turn < 0) fail('conflict', 'Nothing to regenerate yet.');
      this.silence(live);
      this.beginTurn(live, live.record.turns[turn].prompt, turn);
      return {};
    });
  }

  vote(caller: Caller, p: ParsedPayload<'battle:vote'>): Promise<AckResults['battle:vote']> {
    return this.asOwner(caller, 'vote', p, async (live) => {
      const { record } = live;
      if (record.mode === 'tools') fail('conflict', 'Answers on the tools path are not rated.');
      if (record.mode === 'named') fail('conflict', 'A side-by-side comparison by name is not rated.');
      if (record.vote) fail('conflict', 'This battle already has a vote.');
      if (!isSettled(record)) fail('conflict', 'Both answers must finish (or be stopped) before you vote.');
      if (!choiceAllowed(p.choice, failedSides(record.turns))) fail('answer_failed', FAILED_ANSWER_VOTE);
      Object.assign(record, await classifyVotedBattle(record));
      const at = Date.now();
      const result = await this.deps.store.recordVote(record, p.choice, at);
      if (result === 'already_voted') fail('conflict', 'This battle already has a vote.');
      if (result === 'not_found') fail('not_found', NO_SUCH_BATTLE);
      record.vote = { choice: p.choice, at };
      const reason = uncountedReason(record);
      this.deps.metrics.votes.inc({ choice: p.choice, excluded: String(Boolean(reason)) });
      this.deps.logger.info({ battleId: record.id, choice: p.choice, excluded: reason ?? false }, 'vote stored');

      const tournament = await this.advanceTournament(record, p.choice);
      const reveal = buildReveal(record, (m) => this.deps.models.describe(m));
      live.log.push({ t: 'vote', choice: p.choice, reveal, ...(tournament ? { tournament } : {}) });
      live.log.forget();
      runInBackground(this.persist(live), this.deps.logger, 'saving the voted battle', { battleId: record.id });
      this.deps.onVote?.(record);
      return { reveal, ...(tournament ? { tournament } : {}), counted: !reason, ...(reason ? { reason } : {}) };
    });
  }

  /** Runs an owner action forwarded by another instance, if this instance owns the battle. */
  async handleRemote(msg: RemoteAction): Promise<Ack | null> {
    if (!this.live.has(msg.battleId)) return null;
    const caller: Caller = { sessionHash: msg.sessionHash, join: async () => undefined };
    const payload = { ...msg.payload, battleId: msg.battleId } as never;
    try {
      return { ok: true, ...(await this[msg.action](caller, payload)) };
    } catch (err) {
      if (err instanceof ArenaFailure) return { ok: false, error: err.toJSON() };
      if (isRedisUnavailable(err)) return { ok: false, error: sharedStateUnavailable(REDIS_RETRY_AFTER_SECONDS).toJSON() };
      this.deps.logger.error({ err, action: msg.action }, 'forwarded action failed');
      return { ok: false, error: { code: 'internal', message: 'Something went wrong on the server.' } };
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Single instance: every stream is stopped and saved. Several: streams are handed off, and
   * another instance continues them from the log.
   */
  async shutdown(): Promise<void> {
    this.closing = true;
    this.timers.forEach(clearInterval);
    const handoff = this.deps.cluster.shared && this.deps.cluster.handOffOnShutdown?.() !== false;
    await Promise.allSettled(
      [...this.live.values()].map(async (live) => {
        const streaming = isStreaming(live);
        if (handoff) this.silence(live);
        else for (const s of SIDES) live.controllers[s]?.abort();
        if (!handoff) for (const s of SIDES) this.endUnfinished(live, s);
        live.log.flush();
        live.log.dispose();
        await live.outbox;
        await this.persist(live);
        await this.deps.cluster.release(live.record.id, handoff && streaming).catch(() => undefined);
      }),
    );
  }

  /** A battle's stored events for clients that may have missed frames; null when this instance runs it (they did not). */
  async storedEventsForCatchUp(battleId: string): Promise<SeqEvent[] | null> {
    if (this.live.has(battleId) || !this.deps.cluster.shared) return null;
    return this.deps.cluster.readLog(battleId, 0);
  }

  streamingBattles(): number {
    let n = 0;
    for (const live of this.live.values()) if (isStreaming(live)) n++;
    return n;
  }

  // ------------------------------------------------------------------ turns and streams

  private async open(
    caller: Caller,
    session: SessionRecord,
    opts: { pair: [string, string] | null; mode: BattleRecord['mode']; prompt: string; groupId?: string; route?: RouteInfo },
  ): Promise<BattleView> {
    const { pair, mode, prompt, groupId, route } = opts;
    if (!pair) fail('unavailable', 'No pair of models is available right now.');
    // Blind duels randomise sides; the tools path has one named model, always on the left.
    const [left, right] = mode === 'tools' || mode === 'named' || Math.random() < 0.5 ? pair! : [pair![1], pair![0]];
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
      ...(route ? { route } : {}),
      lastSeq: 0,
      categories: await categorizeStart(prompt),
    };
    await this.deps.cluster.acquire(record.id);
    const live = this.track(record);
    session.currentBattleId = record.id;
    session.history = [...(session.history ?? []), record.id].slice(-HISTORY_LENGTH);
    if (mode === 'tournament') session.tournament?.battleIds.push(record.id);
    if (mode !== 'tools' && mode !== 'named') this.markSeen(session, prompt, pair!);
    await this.deps.store.putSession(session);
    // Frames of a battle this instance runs reach its own sockets directly: no need to wait for Redis.
    caller.join(record.id).catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'room join failed'));
    this.deps.logger.info({ battleId: record.id, mode, route: route?.route }, 'battle created');
    this.beginTurn(live, prompt);
    return this.view(record, live.log.seq, true, session);
  }

  /** Two models chosen by name, side by side in the order given: not blind, so never rated. */
  private openNamed(caller: Caller, session: SessionRecord, models: [string, string], prompt: string): Promise<BattleView> {
    const available = this.deps.models.available();
    const missing = models.find((m) => !available.includes(m));
    if (missing) fail('unavailable', `The model "${missing}" is not available right now.`);
    if (models[0] === models[1]) fail('bad_request', 'Pick two different models.');
    return this.open(caller, session, { pair: models, mode: 'named', prompt });
  }

  private beginTurn(live: LiveBattle, prompt: string, turn = live.record.turns.length): void {
    live.lastActive = Date.now();
    live.pacer?.close();
    live.pacer = undefined;
    live.thinking = undefined;
    live.log.push({ t: 'turn', turn, prompt });
    const { logger } = this.deps;
    const battleId = live.record.id;
    runInBackground(this.persist(live), logger, 'saving the battle', { battleId });
    this.deps.cluster.markStreaming(battleId);
    if (live.record.mode === 'tools') runInBackground(this.runTools(live, turn), logger, 'tools turn', { battleId });
    else for (const side of SIDES) runInBackground(this.runSide(live, side, turn), logger, 'answer stream', { battleId, side });
  }

  /** Streams one side's answer; `resume` continues a partial answer (after a takeover). */
  private async runSide(live: LiveBattle, side: Side, turn: number, resume = false): Promise<void> {
    const { record } = live;
    const { metrics } = this.deps;
    const run = new SideRun(this.pacedHost(live, turn), side, turn, (n) => metrics.tokensRelayed.inc(n), resume);
    const answer = () => record.turns[turn].answers[side];
    const thinking = this.thinkingOf(live, turn);
    metrics.activeStreams.inc();
    try {
      const stream = this.deps.models.stream(record.models[side], {
        messages: this.history(record, side, turn, resume),
        signal: run.controller.signal,
        maxTokens: this.deps.limits.maxTokens,
      });
      for await (const part of stream) {
        if (run.stale) break;
        switch (part.type) {
          case 'route':
            answer().deployment = part.deployment;
            if (part.resumed) run.push({ t: 'status', side, turn, status: 'resumed' });
            break;
          case 'loading':
            run.push({ t: 'status', side, turn, status: 'loading' });
            break;
          case 'reasoning':
            if (run.stale) break;
            // Named side by side is not blind: its reasoning streams like the text.
            if (record.mode === 'named') {
              run.text('reasoning', part.text, part.tokens);
              break;
            }
            // Blind: kept on the record for the reveal; clients only learn that some side reasons.
            answer().reasoning += part.text;
            thinking.started(side, run);
            break;
          case 'text':
            thinking.stopped(side, run);
            run.text(part.type, part.text, part.tokens);
            break;
          case 'finish': {
            const a = answer();
            a.ttftMs = part.ttftMs;
            a.tokensPerSecond = part.tokensPerSecond;
            a.promptTokens = part.usage.promptTokens;
            a.completionTokens = part.usage.completionTokens;
            if (part.ttftMs !== undefined && a.deployment) metrics.ttft.observe({ deployment: a.deployment }, part.ttftMs / 1000);
            run.end('done');
            break;
          }
          case 'error':
            this.endWithError(run, record, part.error.code, part.error.message);
            break;
          case 'tool-call':
            break; // arena battles offer no tools
        }
        if (run.ended) break;
      }
    } catch (err) {
      metrics.errors.inc({ type: 'internal' });
      this.deps.logger.error({ battleId: record.id, side, err }, 'stream crashed');
      run.end('error', 'Internal error while streaming this answer.');
    } finally {
      thinking.stopped(side, run);
      await this.settleRun(live, run);
    }
  }

  /** With matched pacing, a side's events go through the turn's pacer on their way to the log. */
  private pacedHost(live: LiveBattle, turn: number): RunHost {
    if (this.deps.limits.pacing !== 'matched') return live;
    if (live.pacer?.turn !== turn) {
      live.pacer?.close();
      live.pacer = new MatchedPacer(turn, (event) => live.log.push(event), () => this.pacerDrained(live));
    }
    return { runs: live.runs, controllers: live.controllers, log: live.pacer };
  }

  /** The pacer let out what it held after both streams had ended: settle as settleRun would have. */
  private pacerDrained(live: LiveBattle): void {
    if (isStreaming(live)) return;
    live.log.flush();
    live.log.forget();
    runInBackground(this.persist(live), this.deps.logger, 'saving the battle', { battleId: live.record.id });
  }

  private thinkingOf(live: LiveBattle, turn: number): ThinkingIndicator {
    if (live.thinking?.turn !== turn) live.thinking = new ThinkingIndicator(turn, (event) => live.log.push(event));
    return live.thinking;
  }

  /** The tools path: one named model, tool calls and results streamed as they happen. */
  private async runTools(live: LiveBattle, turn: number): Promise<void> {
    const { record } = live;
    const run = new SideRun(live, 'left', turn, (n) => this.deps.metrics.tokensRelayed.inc(n));
    this.deps.metrics.activeStreams.inc();
    try {
      const result = await this.deps.tools!.run(this.history(record, 'left', turn, false), run.controller.signal, (e) => {
        if (e.type === 'text' || e.type === 'reasoning') run.text(e.type, e.text);
        else if (e.type === 'tool-call') run.push({ t: 'tool-call', side: 'left', turn, id: e.id, name: e.name, arguments: boundArguments(e.arguments) });
        else if (e.type === 'tool-result')
          run.push({ t: 'tool-result', side: 'left', turn, id: e.id, ok: e.ok, ms: Math.round(e.ms), ...(e.ok ? { result: e.result } : { error: e.error }) });
      });
      record.models.left = result.model;
      if (result.note) run.text('text', `\n\n*${result.note}*`);
      if (result.error) this.endWithError(run, record, result.error.code, result.error.message);
      else run.end('done');
    } catch (err) {
      this.deps.logger.error({ battleId: record.id, err }, 'tools path failed');
      if (run.controller.signal.aborted) run.end(run.abortStatus);
      else run.end('error', (err as Error).message);
    } finally {
      await this.settleRun(live, run);
    }
  }

  private endWithError(run: SideRun, record: BattleRecord, code: string, message: string): void {
    if (code === 'aborted') return run.end(run.abortStatus);
    this.deps.metrics.errors.inc({ type: code });
    this.deps.logger.warn({ battleId: record.id, side: run.side, code, err: message }, 'stream failed');
    run.end('error', neutralError(code));
  }

  /** After a run, whatever happened: it has ended, its events are out, the record is saved. */
  private async settleRun(live: LiveBattle, run: SideRun): Promise<void> {
    this.deps.metrics.activeStreams.dec();
    if (run.stale) return;
    live.log.flush(); // the record now holds the whole answer
    this.checkIdentityLeak(live, run);
    // A run that ends without a finish or an error part was cut: by the user's Stop, or by anything else.
    if (run.controller.signal.aborted && run.abortStatus === 'stopped') run.end('stopped');
    else run.end('interrupted', 'The answer was cut off before it finished.');
    live.controllers[run.side] = undefined;
    live.log.flush();
    live.lastActive = Date.now();
    if (!isStreaming(live)) live.log.forget();
    await this.persist(live);
  }

  /**
   * Once per answer, on its whole text and reasoning (never per token, never at a chunk edge):
   * did the model say who it is? Then the battle is no longer blind and its vote will not count.
   */
  private checkIdentityLeak(live: LiveBattle, run: SideRun): void {
    const { record } = live;
    if (record.mode === 'tools' || record.leak[run.side]) return;
    const answer = record.turns[run.turn]?.answers[run.side];
    if (!answer) return;
    const words = this.deps.models.leakWords(record.models[run.side]);
    if (claimsIdentity(words, answer.reasoning ? `${answer.text}\n${answer.reasoning}` : answer.text)) run.push({ t: 'leak', side: run.side });
  }

  /** Each side sees only its own past answers; a resumed side also gets its partial answer as prefill. */
  private history(record: BattleRecord, side: Side, turn: number, resume: boolean): ChatMessage[] {
    const messages: ChatMessage[] = [];
    if (record.systemPrompt) messages.push({ role: 'system', content: record.systemPrompt });
    for (const t of record.turns.slice(0, turn)) {
      messages.push({ role: 'user', content: t.prompt });
      messages.push({ role: 'assistant', content: t.answers[side].text });
    }
    messages.push({ role: 'user', content: record.turns[turn].prompt });
    if (resume) messages.push({ role: 'assistant', content: record.turns[turn].answers[side].text });
    return messages;
  }

  private endUnfinished(live: LiveBattle, side: Side): void {
    if (!sidesOf(live.record).includes(side)) return;
    const turn = live.record.turns.length - 1;
    const answer = live.record.turns[turn]?.answers[side];
    if (answer && !isEnded(answer)) {
      live.runs[side]++;
      // Through the pacer: it drops the side's held chunks and keeps the end behind what it let out.
      (live.pacer?.turn === turn ? live.pacer : live.log).push({
        t: 'end',
        side,
        turn,
        status: 'interrupted',
        error: 'The server restarted or shut down while this answer was streaming.',
      });
    }
  }

  /** Stops this instance's streams of a battle without ending the answers (regenerate, hand-off). */
  private silence(live: LiveBattle): void {
    live.pacer?.close();
    live.pacer = undefined;
    for (const s of SIDES) {
      live.runs[s]++;
      live.controllers[s]?.abort();
      live.controllers[s] = undefined;
    }
  }

  // ------------------------------------------------------------------ ownership across instances

  /** Runs `action` where the battle lives: here (taking the lease if free), or on its owner. */
  private async asOwner<T extends object>(
    caller: Caller,
    action: RemoteAction['action'],
    payload: { battleId: string },
    run: (live: LiveBattle) => Promise<T>,
  ): Promise<T> {
    const live = await this.hold(payload.battleId);
    if (live === 'elsewhere') {
      const { battleId, ...rest } = payload;
      const ack = await this.deps.forward({ action, battleId, sessionHash: caller.sessionHash, payload: rest });
      if (!ack) fail('unavailable', 'The server running this battle did not answer. Try again in a moment.');
      if (!ack!.ok) throw new ArenaFailure(ack!.error.code, ack!.error.message, ack!.error.retryAfterSeconds);
      const { ok: _ok, ...result } = ack as { ok: true } & T;
      return result as unknown as T;
    }
    if (!live) fail('not_found', NO_SUCH_BATTLE);
    this.checkOwner(caller, live!.record);
    caller.join(live!.record.id).catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'room join failed'));
    return run(live!);
  }

  private async hold(battleId: string): Promise<LiveBattle | 'elsewhere' | null> {
    const local = this.live.get(battleId);
    if (local) return local;
    if (!(await this.deps.cluster.acquire(battleId))) return 'elsewhere';
    const live = await this.rehydrate(battleId);
    if (!live) await this.deps.cluster.release(battleId, false);
    return live;
  }

  /** The stored record brought up to date with the shared log. */
  private async currentRecord(battleId: string): Promise<{ record: BattleRecord; seq: number } | null> {
    const local = this.live.get(battleId);
    if (local) return { record: local.record, seq: local.log.seq };
    const record = await this.deps.store.getBattle(battleId);
    if (!record) return null;
    let seq = record.lastSeq ?? 0;
    for (const e of await this.deps.cluster.readLog(battleId, seq)) {
      applyEvent(record, e);
      seq = e.seq;
    }
    record.lastSeq = seq;
    return { record, seq };
  }

  private async rehydrate(battleId: string): Promise<LiveBattle | null> {
    const current = await this.currentRecord(battleId);
    return current ? (this.live.get(battleId) ?? this.track(current.record)) : null;
  }

  private async eventsAfter(battleId: string, afterSeq: number): Promise<SeqEvent[] | null> {
    const local = this.live.get(battleId);
    if (local) return local.log.after(afterSeq);
    if (!this.deps.cluster.shared) return null;
    const events = await this.deps.cluster.readLog(battleId, afterSeq);
    return events.length === 0 || events[0].seq === afterSeq + 1 ? events : null;
  }

  /** Battles whose owner died mid-stream: take the lease and continue their answers here. */
  private async adoptOrphans(): Promise<void> {
    if (this.closing) return;
    for (const battleId of await this.deps.cluster.orphans()) {
      if (this.live.has(battleId) || !(await this.deps.cluster.acquire(battleId))) continue;
      const live = await this.rehydrate(battleId);
      if (!live) {
        await this.deps.cluster.release(battleId, false);
        continue;
      }
      const turn = live.record.turns.length - 1;
      const unfinished = sidesOf(live.record).filter((s) => turn >= 0 && !isEnded(live.record.turns[turn].answers[s]));
      this.deps.logger.warn({ battleId, sides: unfinished }, 'took over a battle from a dead instance');
      // A tool conversation cannot be continued mid-loop: it runs its turn again.
      if (live.record.mode === 'tools' && unfinished.length) this.beginTurn(live, live.record.turns[turn].prompt, turn);
      else for (const side of unfinished) runInBackground(this.runSide(live, side, turn, true), this.deps.logger, 'resumed answer stream', { battleId, side });
    }
  }

  /** Another instance took this battle over: stop touching it. */
  private drop(battleId: string): void {
    const live = this.live.get(battleId);
    if (!live) return;
    this.silence(live);
    live.log.dispose();
    this.live.delete(battleId);
    this.deps.logger.warn({ battleId }, 'lost the lease of a battle; another instance runs it now');
    this.resyncClients(battleId).catch(() => undefined); // logs its own failure
  }

  private async resyncClients(battleId: string): Promise<void> {
    try {
      const current = await this.currentRecord(battleId);
      if (!current || !this.deps.resync) return;
      const { record, seq } = current;
      const owner = this.view(record, seq, true, await this.session(record.sessionHash));
      this.deps.resync(battleId, { sessionHash: record.sessionHash, owner, spectator: this.view(record, seq, false) });
    } catch (err) {
      this.deps.logger.warn({ battleId, err: (err as Error).message }, 'could not resync clients of a lost battle');
    }
  }

  // ------------------------------------------------------------------ records, views, sessions

  private track(record: BattleRecord): LiveBattle {
    const live: LiveBattle = {
      record,
      controllers: {},
      runs: { left: 0, right: 0 },
      lastActive: Date.now(),
      outbox: Promise.resolve(),
      log: new BattleEventLog(record.lastSeq ?? 0, (events, since) => {
        for (const e of events) applyEvent(record, e);
        record.lastSeq = events.at(-1)!.seq;
        this.deps.metrics.framesSent.inc();
        this.observeDelivery(record, events, since);
        this.publish(live, events);
      }),
    };
    this.live.set(record.id, live);
    return live;
  }

  /** Shared mode: a frame goes out only once stored in the log, so a takeover never rewinds what clients saw. */
  private publish(live: LiveBattle, events: SeqEvent[]): void {
    const send = () => this.deps.broadcast(live.record.id, events);
    if (!this.deps.cluster.shared) return send();
    live.outbox = live.outbox.then(() => this.deps.cluster.appendLog(live.record.id, events)).then(send, send);
  }

  private observeDelivery(record: BattleRecord, events: SeqEvent[], since: number): void {
    const delta = events.find((e) => e.t === 'delta');
    if (!delta || delta.t !== 'delta') return;
    const deployment = record.turns[delta.turn]?.answers[delta.side].deployment ?? 'unknown';
    this.deps.metrics.tokenDelivery.observe({ deployment }, (performance.now() - since) / 1000);
  }

  private view(record: BattleRecord, seq: number, owner: boolean, session?: SessionRecord): BattleView {
    const reveal = record.vote ? buildReveal(record, (m) => this.deps.models.describe(m)) : undefined;
    const view = toView(record, seq, reveal, owner);
    const t = session?.tournament;
    if (record.mode === 'tournament' && t && t.id === record.groupId) view.tournament = this.tournamentView(t);
    return view;
  }

  private async advanceTournament(record: BattleRecord, choice: ParsedPayload<'battle:vote'>['choice']): Promise<TournamentView | undefined> {
    if (record.mode !== 'tournament') return undefined;
    const session = await this.session(record.sessionHash);
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
    const seen = (session.seenPairs[promptKey(prompt)] ??= []);
    const k = pairKey(...pair);
    if (!seen.includes(k)) seen.push(k);
    // Bounded: only the most recent prompts keep their cycle position.
    const keys = Object.keys(session.seenPairs);
    if (keys.length > 50) delete session.seenPairs[keys[0]];
  }

  private async persist(live: LiveBattle): Promise<void> {
    try {
      // A holder that lost the battle (unknown to it yet: it was cut off) must not overwrite the
      // new writer's record. The check goes through the cluster connection, which hears of a
      // takeover before anything of ours is written after a reconnect.
      if (!(await this.deps.cluster.holds(live.record.id))) return;
      await this.deps.store.putBattle(live.record);
    } catch (err) {
      this.deps.metrics.errors.inc({ type: 'store' });
      this.deps.logger.error({ battleId: live.record.id, err }, 'failed to persist battle');
    }
  }

  // ------------------------------------------------------------------ checks

  private availableModels(): string[] {
    const models = this.deps.models.available();
    if (models.length < 2) fail('unavailable', 'Fewer than two models are available right now. Try again shortly.');
    return models;
  }

  /** Another session's battle answers exactly like an unknown id, so ids cannot be probed. */
  private checkOwner(caller: Caller, record: BattleRecord): void {
    if (record.sessionHash !== caller.sessionHash) fail('not_found', NO_SUCH_BATTLE);
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

  private evictIdle(): void {
    const cutoff = Date.now() - IDLE_EVICT_MS;
    for (const [id, live] of this.live) {
      if (live.lastActive < cutoff && !isStreaming(live)) {
        live.log.dispose();
        this.live.delete(id);
        void this.deps.cluster.release(id, false).catch(() => undefined);
      }
    }
  }

  private every(ms: number, fn: () => unknown): void {
    const timer = setInterval(() => {
      Promise.resolve(fn()).catch((err) => this.deps.logger.warn({ err: (err as Error).message }, 'background task failed'));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

const isStreaming = (live: LiveBattle) => Boolean(live.controllers.left || live.controllers.right || live.pacer?.busy);

function sameSecret(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
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
