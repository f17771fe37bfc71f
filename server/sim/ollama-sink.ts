import type { ServerResponse } from 'node:http';
import { sendJson } from './http.js';
import type { Step } from './plan.js';
import type { ReplySink, RunSummary } from './sink.js';
import type { SimToolCall } from './tools.js';

const ns = (ms: number): number => Math.round(ms * 1e6);

interface NativeMessage {
  role: 'assistant';
  content: string;
  thinking?: string;
  tool_calls?: Array<{ function: { index: number; name: string; arguments: Record<string, unknown> } }>;
}

function nativeToolCall(call: SimToolCall, index: number) {
  return { function: { index, name: call.name, arguments: call.arguments } };
}

/** The statistics Ollama appends to its final object, in nanoseconds. */
function finalFields(summary: RunSummary) {
  return {
    done: true,
    done_reason: summary.finishReason === 'length' ? 'length' : 'stop',
    total_duration: ns(summary.totalMs),
    load_duration: ns(summary.loadMs),
    prompt_eval_count: summary.promptTokens,
    prompt_eval_duration: ns(summary.promptMs),
    eval_count: summary.completionTokens,
    eval_duration: ns(summary.evalMs),
  };
}

function stepMessage(step: Step): NativeMessage {
  if (step.kind === 'reasoning') return { role: 'assistant', content: '', thinking: step.text };
  if (step.kind === 'content') return { role: 'assistant', content: step.text };
  return { role: 'assistant', content: '', tool_calls: [nativeToolCall(step.call, step.index)] };
}

/** Ollama /api/chat with stream:true — NDJSON, one object a line, `done:true` last. */
export class OllamaStreamSink implements ReplySink {
  constructor(
    private readonly res: ServerResponse,
    private readonly model: string,
  ) {}

  open(): void {
    this.res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    this.res.flushHeaders();
  }

  emit(step: Step): void {
    this.line({ model: this.model, created_at: new Date().toISOString(), message: stepMessage(step), done: false });
  }

  finish(summary: RunSummary): void {
    const message: NativeMessage = { role: 'assistant', content: '' };
    this.line({ model: this.model, created_at: new Date().toISOString(), message, ...finalFields(summary) });
    this.res.end();
  }

  fail(message: string): void {
    this.line({ error: message });
    this.res.end();
  }

  private line(value: unknown): void {
    this.res.write(`${JSON.stringify(value)}\n`);
  }
}

/** Ollama /api/chat with stream:false — the whole message in one object. */
export class OllamaBufferedSink implements ReplySink {
  private readonly message: NativeMessage = { role: 'assistant', content: '' };

  constructor(
    private readonly res: ServerResponse,
    private readonly model: string,
  ) {}

  open(): void {}

  emit(step: Step): void {
    if (step.kind === 'reasoning') this.message.thinking = (this.message.thinking ?? '') + step.text;
    else if (step.kind === 'content') this.message.content += step.text;
    else (this.message.tool_calls ??= []).push(nativeToolCall(step.call, step.index));
  }

  finish(summary: RunSummary): void {
    sendJson(this.res, 200, { model: this.model, created_at: new Date().toISOString(), message: this.message, ...finalFields(summary) });
  }

  fail(message: string): void {
    sendJson(this.res, 500, { error: message });
  }
}
