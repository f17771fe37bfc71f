import type { Ack, AckResults, BattleView, ParsedPayload, RouteInfo } from '../../src/lib/shared/protocol.js';
import { SIDES } from '../../src/lib/shared/protocol.js';
import { choiceAllowed, failedSides, uncountedReason } from '../../src/lib/shared/vote-rules.js';
import { categorizeStart, classifyVotedBattle } from '../classify/battle.js';
import type { BattleRecord, SessionRecord } from '../store/types.js';
import type { OwnerAction } from '../realtime/relay.js';
import { isRedisUnavailable, REDIS_RETRY_AFTER_SECONDS } from '../infra/redis.js';
import { runInBackground } from '../background.js';
import { allPairs, pairKey, unseenPairs } from './cycle.js';
import type { BattleDeps, Caller } from './deps.js';
import { ArenaFailure, fail, sharedStateUnavailable } from './errors.js';
import { HISTORY_LENGTH } from './history.js';
import { newId, promptKey } from './ids.js';
import { silence, type LiveBattle, type LiveBattles } from './live.js';
import { buildReveal, lastTurnSettled } from './record.js';
import { USER_STOP } from './side-run.js';
import { newTournament, nextRound, recordRound } from './tournament.js';
import type { TurnRunner } from './turns.js';
import { battleView, checkOwner, loadSession, NO_SUCH_BATTLE, tournamentOf } from './views.js';

const FAILED_ANSWER_VOTE =
  'An answer failed or was cut off, so it cannot win or tie. Regenerate for a fair comparison, or vote "Both are bad" (stored, not counted in the ratings).';

type OwnerCommand = OwnerAction['action'];

/**
 * What a battle's owner asks: start, next, and (on the instance that holds the battle, forwarded
 * there when another does) send, stop, regenerate and vote.
 */
export class BattleCommands {
  constructor(
    private readonly deps: BattleDeps,
    private readonly live: LiveBattles,
    private readonly turns: TurnRunner,
  ) {}

  // ------------------------------------------------------------------ new battles (any instance)

  async start(caller: Caller, payload: ParsedPayload<'battle:start'>): Promise<AckResults['battle:start']> {
    this.checkPrompt(payload.prompt);
    const session = await loadSession(this.deps.store, caller.sessionHash);
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

  async next(caller: Caller, { battleId }: ParsedPayload<'battle:next'>): Promise<AckResults['battle:next']> {
    const current = await this.live.currentRecord(battleId);
    if (!current) fail('not_found', NO_SUCH_BATTLE);
    const previous = current!.record;
    checkOwner(caller, previous);
    const prompt = previous.turns[0]?.prompt;
    if (!prompt) fail('conflict', 'This battle has no prompt to run again.');
    if (previous.mode === 'named') fail('conflict', 'A side-by-side comparison has no next pair: pick two models again.');
    if (previous.mode === 'tools') fail('conflict', 'Answers on the tools path have no next pair: ask in the arena for a duel.');
    const session = await loadSession(this.deps.store, caller.sessionHash);
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
      if (!lastTurnSettled(live.record)) fail('conflict', 'Wait for both answers to finish (or stop them) before sending a follow-up.');
      if (live.record.turns.length >= this.deps.limits.maxTurns)
        fail('limit', `This battle has reached ${this.deps.limits.maxTurns} turns. Vote, or start a new round.`);
      await this.turns.begin(live, p.prompt);
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
      silence(live);
      await this.turns.begin(live, live.record.turns[turn].prompt, turn);
      return {};
    });
  }

  vote(caller: Caller, p: ParsedPayload<'battle:vote'>): Promise<AckResults['battle:vote']> {
    return this.asOwner(caller, 'vote', p, async (live) => {
      const { record } = live;
      if (record.mode === 'tools') fail('conflict', 'Answers on the tools path are not rated.');
      if (record.mode === 'named') fail('conflict', 'A side-by-side comparison by name is not rated.');
      if (record.vote) fail('conflict', 'This battle already has a vote.');
      if (!lastTurnSettled(record)) fail('conflict', 'Both answers must finish (or be stopped) before you vote.');
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
      runInBackground(this.live.persist(live), this.deps.logger, 'saving the voted battle', { battleId: record.id });
      this.deps.onVote?.(record);
      this.deps.port.announceVote();
      return { reveal, ...(tournament ? { tournament } : {}), counted: !reason, ...(reason ? { reason } : {}) };
    });
  }

  /** Runs an owner action forwarded by another instance, if this instance holds the battle (else null). */
  async handleRemote(msg: OwnerAction): Promise<Ack | null> {
    if (!this.live.get(msg.battleId)) return null;
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

  // ------------------------------------------------------------------ helpers

  /** Runs `action` where the battle lives: here (taking the lease if free), or on its owner. */
  private async asOwner<T extends object>(caller: Caller, action: OwnerCommand, payload: { battleId: string }, run: (live: LiveBattle) => Promise<T>): Promise<T> {
    const live = await this.live.hold(payload.battleId);
    if (live === 'elsewhere') {
      const { battleId, ...rest } = payload;
      const ack = await this.deps.port.forward({ action, battleId, sessionHash: caller.sessionHash, payload: rest });
      if (ack === 'unreachable') throw sharedStateUnavailable(REDIS_RETRY_AFTER_SECONDS);
      if (ack === 'no_owner') fail('unavailable', 'The server running this battle did not answer. Try again in a moment.');
      const answer = ack as Ack;
      if (!answer.ok) throw new ArenaFailure(answer.error.code, answer.error.message, answer.error.retryAfterSeconds);
      const { ok: _ok, ...result } = answer as { ok: true } & T;
      return result as unknown as T;
    }
    if (!live) fail('not_found', NO_SUCH_BATTLE);
    checkOwner(caller, live!.record);
    caller.join(live!.record.id).catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'room join failed'));
    return run(live!);
  }

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
    const live = this.live.track(record);
    session.currentBattleId = record.id;
    session.history = [...(session.history ?? []), record.id].slice(-HISTORY_LENGTH);
    if (mode === 'tournament') session.tournament?.battleIds.push(record.id);
    if (mode !== 'tools' && mode !== 'named') markSeen(session, prompt, pair!);
    await this.deps.store.putSession(session);
    // Frames of a battle this instance runs reach its own sockets directly: no need to wait for Redis.
    caller.join(record.id).catch((err: Error) => this.deps.logger.warn({ err: err.message }, 'room join failed'));
    this.deps.logger.info({ battleId: record.id, mode, route: route?.route }, 'battle created');
    await this.turns.begin(live, prompt);
    return battleView(this.deps.models, record, live.log.seq, true, session);
  }

  /** Two models chosen by name, side by side in the order given: not blind, so never rated. */
  private openNamed(caller: Caller, session: SessionRecord, models: [string, string], prompt: string): Promise<BattleView> {
    const available = this.deps.models.available();
    const missing = models.find((m) => !available.includes(m));
    if (missing) fail('unavailable', `The model "${missing}" is not available right now.`);
    if (models[0] === models[1]) fail('bad_request', 'Pick two different models.');
    return this.open(caller, session, { pair: models, mode: 'named', prompt });
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

  private async advanceTournament(record: BattleRecord, choice: ParsedPayload<'battle:vote'>['choice']) {
    if (record.mode !== 'tournament') return undefined;
    const session = await loadSession(this.deps.store, record.sessionHash);
    const t = session.tournament;
    if (!t || t.id !== record.groupId) return undefined;
    recordRound(t, record.models.left, record.models.right, choice);
    await this.deps.store.putSession(session);
    return tournamentOf(this.deps.models, t);
  }

  private availableModels(): string[] {
    const models = this.deps.models.available();
    if (models.length < 2) fail('unavailable', 'Fewer than two models are available right now. Try again shortly.');
    return models;
  }

  private checkOpen(record: BattleRecord): void {
    if (record.vote) fail('conflict', 'This battle has been voted on: start a new round.');
    if (this.live.closing) fail('unavailable', 'The server is shutting down.');
  }

  private checkPrompt(prompt: string): void {
    if (this.live.closing) fail('unavailable', 'The server is shutting down.');
    if (prompt.length > this.deps.limits.maxPromptChars)
      fail('limit', `The prompt is ${prompt.length} characters; the limit is ${this.deps.limits.maxPromptChars}.`);
  }
}

function markSeen(session: SessionRecord, prompt: string, pair: [string, string]): void {
  const seen = (session.seenPairs[promptKey(prompt)] ??= []);
  const k = pairKey(...pair);
  if (!seen.includes(k)) seen.push(k);
  // Bounded: only the most recent prompts keep their cycle position.
  const keys = Object.keys(session.seenPairs);
  if (keys.length > 50) delete session.seenPairs[keys[0]];
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
