import type { Side } from '../../src/lib/shared/protocol.js';
import { SIDES } from '../../src/lib/shared/protocol.js';
import type { ChatMessage } from '../providers/types.js';
import type { BattleRecord } from '../store/types.js';
import { boundArguments } from '../tools/event-arguments.js';
import { runInBackground } from '../background.js';
import type { BattleDeps } from './deps.js';
import { claimsIdentity } from './leak.js';
import { isStreaming, type LiveBattle, type LiveBattles } from './live.js';
import { MatchedPacer } from './pacer.js';
import { SideRun, type RunHost } from './side-run.js';
import { ThinkingIndicator } from './thinking.js';

type TurnDeps = Pick<BattleDeps, 'cluster' | 'models' | 'limits' | 'logger' | 'metrics' | 'tools'>;

/**
 * The token path: a turn's two sides (or the tools path's one) streamed from the model layer into
 * the battle's event log, through the pacer and the blind reasoning indicator, then settled.
 */
export class TurnRunner {
  constructor(
    private readonly deps: TurnDeps,
    private readonly live: LiveBattles,
  ) {}

  /**
   * Starts a turn (a new one, or `turn` again on regenerate) on every side. Resolves once the
   * record with the turn is saved (persist never rejects), the streams already running: a new
   * battle (or turn) is acknowledged only then, so a spectator on another instance can find it at once.
   */
  begin(live: LiveBattle, prompt: string, turn = live.record.turns.length): Promise<void> {
    live.lastActive = Date.now();
    live.pacer?.close();
    live.pacer = undefined;
    live.thinking = undefined;
    live.log.push({ t: 'turn', turn, prompt });
    const { logger } = this.deps;
    const battleId = live.record.id;
    const saved = this.live.persist(live);
    this.deps.cluster.markStreaming(battleId);
    if (live.record.mode === 'tools') runInBackground(this.runTools(live, turn), logger, 'tools turn', { battleId });
    else for (const side of SIDES) runInBackground(this.runSide(live, side, turn), logger, 'answer stream', { battleId, side });
    return saved;
  }

  /** A battle taken over from a dead instance: its unfinished sides continue from their partial answers. */
  readonly resume = (live: LiveBattle, unfinished: Side[]): void => {
    const turn = live.record.turns.length - 1;
    // A tool conversation cannot be continued mid-loop: it runs its turn again.
    if (live.record.mode === 'tools' && unfinished.length) return void this.begin(live, live.record.turns[turn].prompt, turn);
    const battleId = live.record.id;
    for (const side of unfinished) runInBackground(this.runSide(live, side, turn, true), this.deps.logger, 'resumed answer stream', { battleId, side });
  };

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
        messages: history(record, side, turn, resume),
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
    runInBackground(this.live.persist(live), this.deps.logger, 'saving the battle', { battleId: live.record.id });
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
      const result = await this.deps.tools!.run(history(record, 'left', turn, false), run.controller.signal, (e) => {
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
    await this.live.persist(live);
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
}

/** Each side sees only its own past answers; a resumed side also gets its partial answer as prefill. */
function history(record: BattleRecord, side: Side, turn: number, resume: boolean): ChatMessage[] {
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
