import type { ProviderError } from '../providers/errors.js';
import type { ChatMessage, ChatRequest, FinishReason, Provider, ToolCall, ToolSpec } from '../providers/types.js';
import type { ToolRegistry } from './registry.js';
import { runToolCall, type ToolOutcome } from './run-tool.js';

/**
 * The tool loop: stream the model; when it calls tools, run them in parallel, append its turn
 * and one `tool` message per result, and ask again, until it answers without calling tools or
 * the round limit is reached. A round is one model request. Bad arguments, failing or slow tools
 * become `{"error": …}` results the model reads; only the model's own stream can fail the loop.
 */

export type ToolLoopEvent =
  | { type: 'round'; round: number }
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool-call'; id: string; name: string; arguments: Record<string, unknown>; argumentsError?: string }
  | ({ type: 'tool-result'; id: string; name: string } & ToolOutcome)
  | { type: 'finish'; rounds: number; reason: FinishReason | 'max_rounds'; note?: string }
  | { type: 'error'; round: number; error: ProviderError };

export interface ToolConversationOptions {
  provider: Provider;
  model: string;
  /** The conversation so far; not modified. */
  messages: readonly ChatMessage[];
  registry: ToolRegistry;
  /** Model requests allowed; tools called in the last one are not run (nobody would read their results). */
  maxRounds: number;
  signal?: AbortSignal;
  onEvent?: (event: ToolLoopEvent) => void;
  /** Passed through on every request (maxTokens, temperature, timeouts…). */
  request?: Partial<Omit<ChatRequest, 'model' | 'messages' | 'tools' | 'signal'>>;
}

export interface ToolConversationResult {
  outcome: 'answered' | 'max_rounds' | 'error';
  /** The text of the model's last turn. */
  text: string;
  /** The input conversation plus every assistant and tool message the loop added. */
  messages: ChatMessage[];
  rounds: number;
  /** Set when the round limit stopped the loop, fit to show the user. */
  note?: string;
  error?: ProviderError;
}

interface Turn {
  text: string;
  calls: ToolCall[];
  finishReason: FinishReason;
  error?: ProviderError;
}

export async function runToolConversation(opts: ToolConversationOptions): Promise<ToolConversationResult> {
  if (!Number.isInteger(opts.maxRounds) || opts.maxRounds < 1) throw new RangeError(`maxRounds must be a positive integer, got ${opts.maxRounds}`);
  const emit = opts.onEvent ?? (() => {});
  const messages = [...opts.messages];
  const tools = opts.registry.toToolSpecs();
  for (let round = 1; ; round++) {
    emit({ type: 'round', round });
    const turn = await streamTurn(opts, messages, tools, emit);
    if (turn.error) {
      emit({ type: 'error', round, error: turn.error });
      return { outcome: 'error', text: turn.text, messages, rounds: round, error: turn.error };
    }
    if (turn.calls.length === 0) {
      messages.push({ role: 'assistant', content: turn.text });
      emit({ type: 'finish', rounds: round, reason: turn.finishReason });
      return { outcome: 'answered', text: turn.text, messages, rounds: round };
    }
    const lastRound = round >= opts.maxRounds;
    const outcomes = lastRound ? turn.calls.map(notRun(opts.maxRounds)) : await runCalls(opts, turn.calls);
    turn.calls.forEach((call, i) => emit({ type: 'tool-result', id: call.id, name: call.name, ...outcomes[i]! }));
    messages.push(assistantTurn(turn), ...turn.calls.map((call, i) => toolMessage(call, outcomes[i]!)));
    if (lastRound) {
      const note = `Stopped after ${round} round${round === 1 ? '' : 's'}: the model was still calling tools.`;
      emit({ type: 'finish', rounds: round, reason: 'max_rounds', note });
      return { outcome: 'max_rounds', text: turn.text, messages, rounds: round, note };
    }
  }
}

async function streamTurn(opts: ToolConversationOptions, messages: ChatMessage[], tools: ToolSpec[], emit: (event: ToolLoopEvent) => void): Promise<Turn> {
  const turn: Turn = { text: '', calls: [], finishReason: 'stop' };
  const request: ChatRequest = { ...opts.request, model: opts.model, messages, tools, signal: opts.signal };
  for await (const part of opts.provider.stream(request)) {
    if (part.type === 'text') {
      turn.text += part.text;
      emit({ type: 'text', text: part.text });
    } else if (part.type === 'reasoning') {
      emit({ type: 'reasoning', text: part.text });
    } else if (part.type === 'tool-call') {
      turn.calls.push(part.call);
      const { id, name, arguments: args, argumentsError } = part.call;
      emit({ type: 'tool-call', id, name, arguments: args, ...(argumentsError && { argumentsError }) });
    } else if (part.type === 'finish') {
      turn.finishReason = part.reason;
    } else {
      turn.error = part.error;
    }
  }
  return turn;
}

function runCalls(opts: ToolConversationOptions, calls: ToolCall[]): Promise<ToolOutcome[]> {
  return Promise.all(calls.map((call) => runToolCall(opts.registry, call, opts.signal)));
}

const notRun =
  (maxRounds: number) =>
  (): ToolOutcome => ({ ok: false, error: `not run: the limit of ${maxRounds} rounds was reached`, ms: 0 });

function assistantTurn(turn: Turn): ChatMessage {
  // Servers that re-parse the history (vLLM chat templates) reject arguments that are not JSON:
  // a malformed call goes back as `{}`, and its tool result says what was wrong. Empty or blank
  // arguments ("", "  ") mean no arguments: they go back as `{}` too.
  const toolCalls = turn.calls.map(({ rawArguments, ...call }) => (call.argumentsError || !rawArguments?.trim() ? call : { ...call, rawArguments }));
  return { role: 'assistant', content: turn.text, toolCalls };
}

function toolMessage(call: ToolCall, outcome: ToolOutcome): ChatMessage {
  const content = JSON.stringify(outcome.ok ? outcome.result ?? null : { error: outcome.error });
  return { role: 'tool', content, toolCallId: call.id, toolName: call.name };
}
