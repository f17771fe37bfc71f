import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { errorBody } from './errors.js';
import { sendJson } from './http.js';
import type { Step } from './plan.js';
import type { ReplySink, RunSummary } from './sink.js';
import type { SimToolCall } from './tools.js';

export interface OpenAiSinkOptions {
  /** vLLM streams arguments in fragments and calls reasoning `reasoning_content`; Ollama's /v1 layer sends whole calls and `reasoning`. */
  flavor: 'ollama' | 'vllm';
  model: string;
  includeUsage: boolean;
  /** Every tool call as one whole fragment (Ollama, or the [[index0]] directive). */
  wholeToolCalls: boolean;
}

const ARGUMENT_FRAGMENTS = 3;

function splitFragments(text: string, count: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / count));
  const fragments: string[] = [];
  for (let i = 0; i < text.length; i += size) fragments.push(text.slice(i, i + size));
  return fragments.length > 0 ? fragments : [''];
}

function usageOf(summary: RunSummary) {
  return {
    prompt_tokens: summary.promptTokens,
    completion_tokens: summary.completionTokens,
    total_tokens: summary.promptTokens + summary.completionTokens,
  };
}

function wholeToolCall(call: SimToolCall, index: number) {
  return { index, id: call.id, type: 'function', function: { name: call.name, arguments: call.argumentsJson } };
}

/** Shared identity of one completion: id, creation time, model, flavor. */
abstract class OpenAiReply {
  protected readonly id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  protected readonly created = Math.floor(Date.now() / 1000);

  constructor(
    protected readonly res: ServerResponse,
    protected readonly options: OpenAiSinkOptions,
  ) {}

  protected get reasoningField(): 'reasoning' | 'reasoning_content' {
    return this.options.flavor === 'vllm' ? 'reasoning_content' : 'reasoning';
  }

  protected get dialect() {
    return this.options.flavor === 'vllm' ? ('vllm' as const) : ('ollama-openai' as const);
  }
}

/** Chat completions with stream:true — SSE `data:` chunks ending with `data: [DONE]`. */
export class OpenAiStreamSink extends OpenAiReply implements ReplySink {
  private sentRole = false;

  open(): void {
    this.res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
    this.res.flushHeaders();
  }

  emit(step: Step): void {
    this.announceRole();
    if (step.kind === 'content') this.delta({ content: step.text });
    else if (step.kind === 'reasoning') this.delta({ [this.reasoningField]: step.text });
    else if (this.options.wholeToolCalls) this.delta({ tool_calls: [wholeToolCall(step.call, step.index)] });
    else this.fragmentedToolCall(step.call, step.index);
  }

  finish(summary: RunSummary): void {
    this.announceRole();
    this.delta({}, summary.finishReason);
    if (this.options.includeUsage) this.data({ ...this.envelope([]), usage: usageOf(summary) });
    this.data('[DONE]');
    this.res.end();
  }

  fail(message: string): void {
    this.data(errorBody(this.dialect, 500, message));
    if (this.options.flavor === 'vllm') this.data('[DONE]');
    this.res.end();
  }

  /** vLLM opens with a role-only chunk; Ollama repeats the role in every delta instead. */
  private announceRole(): void {
    if (this.sentRole || this.options.flavor !== 'vllm') return;
    this.sentRole = true;
    this.delta({ role: 'assistant', content: '' });
  }

  private fragmentedToolCall(call: SimToolCall, index: number): void {
    this.delta({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] });
    for (const fragment of splitFragments(call.argumentsJson, ARGUMENT_FRAGMENTS)) {
      this.delta({ tool_calls: [{ index, function: { arguments: fragment } }] });
    }
  }

  private delta(delta: Record<string, unknown>, finishReason: string | null = null): void {
    const fullDelta = this.options.flavor === 'ollama' ? { role: 'assistant', content: '', ...delta } : delta;
    const choice = { index: 0, delta: fullDelta, logprobs: null, finish_reason: finishReason };
    this.data({ ...this.envelope([choice]), ...(this.options.includeUsage ? { usage: null } : {}) });
  }

  private envelope(choices: unknown[]) {
    const fingerprint = this.options.flavor === 'ollama' ? { system_fingerprint: 'fp_ollama' } : {};
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.options.model, ...fingerprint, choices };
  }

  private data(value: unknown): void {
    this.res.write(`data: ${typeof value === 'string' ? value : JSON.stringify(value)}\n\n`);
  }
}

/** Chat completions with stream:false — one `chat.completion` body. */
export class OpenAiBufferedSink extends OpenAiReply implements ReplySink {
  private content = '';
  private reasoning = '';
  private readonly toolCalls: Array<ReturnType<typeof wholeToolCall>> = [];

  open(): void {}

  emit(step: Step): void {
    if (step.kind === 'content') this.content += step.text;
    else if (step.kind === 'reasoning') this.reasoning += step.text;
    else this.toolCalls.push(wholeToolCall(step.call, step.index));
  }

  finish(summary: RunSummary): void {
    const message = {
      role: 'assistant',
      content: this.toolCalls.length > 0 && this.content === '' ? null : this.content,
      ...(this.reasoning ? { [this.reasoningField]: this.reasoning } : {}),
      ...(this.toolCalls.length > 0 ? { tool_calls: this.toolCalls.map(({ index: _index, ...call }) => call) } : {}),
    };
    sendJson(this.res, 200, {
      id: this.id,
      object: 'chat.completion',
      created: this.created,
      model: this.options.model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: summary.finishReason }],
      usage: usageOf(summary),
    });
  }

  fail(message: string): void {
    sendJson(this.res, 500, errorBody(this.dialect, 500, message));
  }
}
