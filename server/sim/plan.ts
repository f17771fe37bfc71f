import type { Reply } from './answer.js';
import type { SimModel } from './models.js';
import type { SimToolCall } from './tools.js';

/** One unit the pacer emits per token slot. */
export type Step =
  | { kind: 'reasoning'; text: string }
  | { kind: 'content'; text: string }
  | { kind: 'tool_call'; call: SimToolCall; index: number };

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface Plan {
  steps: Step[];
  finishReason: FinishReason;
}

export interface PlanOptions {
  /** False when the client turned thinking off (Ollama `think:false`). */
  includeReasoning: boolean;
  /** max_tokens / num_predict: caps reasoning + content + tool call steps. */
  maxTokens?: number;
  /** The wire carries arguments as objects (Ollama native), so unparseable ones surface as text. */
  argumentsAsObjects: boolean;
  /** Every tool call gets index 0 (Ollama /v1 quirk). */
  sharedToolIndex: boolean;
}

function reasoningSteps(model: SimModel, reasoning: string[]): Step[] {
  if (reasoning.length === 0) return [];
  if (model.thinkFormat === 'field') return reasoning.map((text) => ({ kind: 'reasoning', text }));
  const last = reasoning.length - 1;
  return reasoning.map((token, i) => ({
    kind: 'content',
    text: `${i === 0 ? '<think>' : ''}${token}${i === last ? '</think>\n\n' : ''}`,
  }));
}

/** A model whose tool-call JSON does not parse: Ollama's parser gives up and passes the raw text on as content. */
function rawToolCallText(calls: SimToolCall[]): Step[] {
  return calls.map((call) => ({ kind: 'content', text: `{"name":"${call.name}","arguments":${call.argumentsJson}}` }));
}

function toolCallSteps(calls: SimToolCall[], options: PlanOptions): Step[] {
  const malformed = calls.some((call) => call.argumentsJson !== JSON.stringify(call.arguments));
  if (malformed && options.argumentsAsObjects) return rawToolCallText(calls);
  return calls.map((call, i) => ({ kind: 'tool_call', call, index: options.sharedToolIndex ? 0 : i }));
}

export function buildPlan(model: SimModel, reply: Reply, options: PlanOptions): Plan {
  const steps = [
    ...(options.includeReasoning ? reasoningSteps(model, reply.reasoning) : []),
    ...reply.answer.map((text): Step => ({ kind: 'content', text })),
    ...toolCallSteps(reply.toolCalls, options),
  ];
  const limit = options.maxTokens !== undefined && options.maxTokens >= 0 ? options.maxTokens : Infinity;
  if (steps.length > limit) return { steps: steps.slice(0, limit), finishReason: 'length' };
  const calledTools = steps.some((step) => step.kind === 'tool_call');
  return { steps, finishReason: calledTools ? 'tool_calls' : 'stop' };
}
