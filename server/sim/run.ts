import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ActiveChat, SimEngine } from './engine.js';
import type { SimModel } from './models.js';
import type { Plan, Step } from './plan.js';
import type { ReplySink } from './sink.js';
import { stampToken } from './stamp.js';
import { isAbortError, sleepUntil, untilAborted } from './timing.js';
import type { SimFault, SimStreamEvent } from './types.js';

export interface ChatJob {
  model: SimModel;
  plan: Plan;
  promptTokens: number;
  /** How long the model stays loaded after this chat (Ollama keep_alive). */
  keepAliveMs: number;
  /** performance.now() when the request arrived, for total_duration. */
  receivedAt: number;
}

const DEFAULT_FAULT_MESSAGE = 'simulated backend failure';

/** The fault that interrupts a reply once `contentSoFar` content tokens are out, if any. */
function interruption(fault: SimFault, contentSoFar: number): Extract<SimFault, { kind: 'die_after' | 'error_after' }> | undefined {
  if (fault.kind !== 'die_after' && fault.kind !== 'error_after') return undefined;
  return contentSoFar === fault.tokens ? fault : undefined;
}

/**
 * One admitted chat: waits for a slot and the model, then paces the plan onto the sink with real
 * timers, applying the fault in force when the request arrived. Ends exactly once, emitting
 * 'stream-end' — including the moment the client hangs up.
 */
export class ChatRun implements ActiveChat {
  readonly requestId = randomUUID();
  private emittedSteps = 0;
  private contentEmitted = 0;
  private readonly controller = new AbortController();
  private ended = false;
  /** Releases of what this chat holds (queue slot, model residency), run when it ends. */
  private readonly releases: Array<() => void> = [];
  private readonly fault: SimFault;

  constructor(
    private readonly engine: SimEngine,
    private readonly job: ChatJob,
    private readonly sink: ReplySink,
    private readonly res: ServerResponse,
  ) {
    this.fault = engine.faults.for(job.model.name);
  }

  get model(): SimModel {
    return this.job.model;
  }

  get promptTokens(): number {
    return this.job.promptTokens;
  }

  get emitted(): number {
    return this.emittedSteps;
  }

  async execute(): Promise<void> {
    this.engine.track(this);
    this.res.once('close', () => this.end('client_closed'));
    try {
      await this.generate();
    } catch (error) {
      if (!isAbortError(error)) this.breakConnection();
    }
  }

  abort(): void {
    this.breakConnection();
  }

  private async generate(): Promise<void> {
    const { model, plan } = this.job;
    const signal = this.controller.signal;
    await this.engine.admission.enter(model.name, signal);
    this.holdUntilEnd(() => this.engine.admission.leave(model.name));
    const loadMs = await this.engine.residency.load(model, signal);
    this.engine.residency.hold(model.name, this.job.keepAliveMs);
    this.holdUntilEnd(() => this.engine.residency.release(model.name));
    this.sink.open();
    if (this.fault.kind === 'hang') await untilAborted(signal);

    const slowdown = this.fault.kind === 'slow' ? Math.max(1, this.fault.factor) : 1;
    const interval = (1000 / model.tokensPerSecond) * slowdown;
    const promptStart = performance.now();
    // The first token needs one decode step after prefill, so prefill gets the rest of ttftMs.
    await sleepUntil(promptStart + model.ttftMs - interval, signal);
    const evalStart = performance.now();
    for (const [index, step] of plan.steps.entries()) {
      // Steps already due go out in the same tick, so high rates are not capped by timer granularity.
      await sleepUntil(evalStart + (index + 1) * interval, signal);
      if (this.ended || (step.kind === 'content' && this.interrupted())) return;
      this.emit(step);
    }
    if (this.ended || this.interrupted()) return;
    const finishedAt = performance.now();
    this.sink.finish({
      finishReason: plan.finishReason,
      promptTokens: this.job.promptTokens,
      completionTokens: this.emittedSteps,
      loadMs,
      promptMs: evalStart - promptStart,
      evalMs: finishedAt - evalStart,
      totalMs: finishedAt - this.job.receivedAt,
    });
    this.end('done');
  }

  /** Registers a release; a chat that ended while acquiring (e.g. the server went down) releases at once. */
  private holdUntilEnd(release: () => void): void {
    if (!this.ended) return void this.releases.push(release);
    release();
    this.controller.signal.throwIfAborted();
  }

  private emit(step: Step): void {
    this.sink.emit(this.engine.options.stampTokens && step.kind === 'content' ? { kind: 'content', text: stampToken(step.text) } : step);
    this.emittedSteps++;
    if (step.kind === 'content') this.contentEmitted++;
  }

  /** Applies die_after / error_after when their token count is reached; true when the reply is over. */
  private interrupted(): boolean {
    const fault = interruption(this.fault, this.contentEmitted);
    if (!fault) return false;
    if (fault.kind === 'die_after') this.dieMidStream();
    else {
      this.sink.fail(fault.message ?? DEFAULT_FAULT_MESSAGE);
      this.end('fault');
    }
    return true;
  }

  /**
   * The backend process dies: what it already wrote still reaches the client (http writes are
   * corked until the next tick, so a bare destroy would drop them), then the connection closes
   * with the response unfinished.
   */
  private dieMidStream(): void {
    const socket = this.res.socket;
    this.end('fault');
    if (socket) socket.end(() => socket.destroy());
    else this.res.destroy();
  }

  /** Immediate teardown: the server went down or the simulator broke; nothing pending is flushed. */
  private breakConnection(): void {
    this.end('fault');
    this.res.destroy();
  }

  private end(reason: SimStreamEvent['reason']): void {
    if (this.ended) return;
    this.ended = true;
    this.controller.abort();
    for (const release of this.releases) release();
    this.engine.untrack(this, { model: this.job.model.name, requestId: this.requestId, at: Date.now(), reason });
  }
}
