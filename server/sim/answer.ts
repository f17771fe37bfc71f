import {
  conversationKey,
  lastUserText,
  normalizeMessages,
  trailingToolResults,
  type SimMessage,
} from './conversation.js';
import { DEMO_MODELS, hasCapability, identityOf, resolveModel, type SimModel } from './models.js';
import { composeProse, composeReasoning, composeSentence, tokenize } from './prose.js';
import { createRng, hashString } from './random.js';
import { composeAnswer } from './shapes.js';
import { planToolCalls, type SimToolCall } from './tools.js';
import type { SimModelSpec } from './types.js';

/** What a model replies to a conversation, before any wire format or pacing. */
export interface Reply {
  /** Chain of thought ('thinking' models only), as tokens. */
  reasoning: string[];
  /** The answer, as tokens; joined they are the answer text. */
  answer: string[];
  toolCalls: SimToolCall[];
}

/**
 * Test directive, inert unless a prompt carries it: `[[echo:<base64>]]` in the last user message
 * makes the model answer exactly the decoded UTF-8 text (no reasoning, no length cap), so tests
 * can stream arbitrary, hostile model output. Standard or URL-safe base64.
 */
const ECHO_DIRECTIVE = /\[\[echo:([A-Za-z0-9+/_=-]*)\]\]/;

/** The text an `[[echo:…]]` directive asks for, if the prompt has one. */
export function echoDirective(prompt: string): string | undefined {
  const match = ECHO_DIRECTIVE.exec(prompt);
  return match ? Buffer.from(match[1]!, 'base64').toString('utf8') : undefined;
}

/** Tokens that join back to exactly `text`, leading whitespace included. */
function exactTokens(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

const IDENTITY_QUESTION = /\b(who are you|which model|what model|your name|who made you|who created you)\b/i;
/** A leading think block, closed or cut off mid-reasoning (tags models put it in the content). */
const THINK_BLOCK = /^\s*<think>[\s\S]*?(<\/think>\s*|$)/;

function seedOf(model: SimModel, messages: readonly SimMessage[], salt: string): number {
  return hashString(`${model.name}\u0000${salt}\u0000${conversationKey(messages)}`);
}

function proseAnswer(model: SimModel, messages: readonly SimMessage[]): string {
  const rng = createRng(seedOf(model, messages, 'answer'));
  const prompt = lastUserText(messages);
  if (!IDENTITY_QUESTION.test(prompt)) return model.shapedAnswers ? composeAnswer(rng, prompt, model.maxTokens) : composeProse(rng, model.maxTokens);
  const intro = `I am ${identityOf(model)}, a language model.`;
  const text = `${intro} ${composeProse(rng, Math.max(1, model.maxTokens - tokenize(intro).length))}`;
  return tokenize(text).slice(0, model.maxTokens).join('').trimEnd();
}

function toolResultAnswer(model: SimModel, messages: readonly SimMessage[], results: string[]): string {
  const closing = composeSentence(createRng(seedOf(model, messages, 'tool-result')));
  return `Result: ${results.join('; ')}\n\n${closing}`;
}

function reasoningFor(model: SimModel, messages: readonly SimMessage[]): string[] {
  return hasCapability(model, 'thinking') ? tokenize(composeReasoning(createRng(seedOf(model, messages, 'think')))) : [];
}

/** Tokens of `full` after `prefix` (which may end mid-token); a whitespace-only leftover joins the next token. */
function tokensAfter(full: string[], prefix: string): string[] {
  let consumed = 0;
  let index = 0;
  while (index < full.length && consumed + full[index]!.length <= prefix.length) consumed += full[index++]!.length;
  const rest = full.slice(index);
  if (consumed === prefix.length || rest.length === 0) return rest;
  const leftover = rest[0]!.slice(prefix.length - consumed);
  if (leftover.trim() === '' && rest.length > 1) rest.splice(0, 2, leftover + rest[1]!);
  else rest[0] = leftover;
  return rest;
}

/**
 * An assistant message at the end is a partial answer: continue it when it is a prefix of what the
 * model would say (an empty one continues from the start), else continue with fresh prose.
 */
function continuation(model: SimModel, messages: SimMessage[], offeredTools: readonly string[] | undefined): Reply {
  const partial = messages.at(-1)!.content.replace(THINK_BLOCK, '');
  const uninterrupted = composeReply(model, messages.slice(0, -1), offeredTools);
  const fullText = uninterrupted.answer.join('');
  if (uninterrupted.toolCalls.length === 0 && fullText.startsWith(partial)) {
    return { reasoning: [], answer: tokensAfter(uninterrupted.answer, partial), toolCalls: [] };
  }
  return { reasoning: [], answer: tokenize(composeProse(createRng(seedOf(model, messages, 'continue')), model.maxTokens)), toolCalls: [] };
}

/** The quoted prompt of a routing request (Arena's LLM layer wraps it in triple quotes), else the whole message. */
const QUOTED_PROMPT = /"""\n([\s\S]*)\n"""/;

/**
 * The deterministic stand-in for a routing model ('router' capability): TOOLS when the prompt
 * has a digit, else ARENA. A naive rule on purpose: it exercises the plumbing (one word, in
 * time, counted right), not the judgement a real model brings.
 */
function routingAnswer(messages: readonly SimMessage[]): string {
  const text = lastUserText(messages);
  const prompt = QUOTED_PROMPT.exec(text)?.[1] ?? text;
  return /\p{Nd}/u.test(prompt) ? 'TOOLS' : 'ARENA';
}

export function composeReply(model: SimModel, messages: SimMessage[], offeredTools?: readonly string[]): Reply {
  if (messages.at(-1)?.role === 'assistant') return continuation(model, messages, offeredTools);
  const echo = messages.at(-1)?.role === 'user' ? echoDirective(messages.at(-1)!.content) : undefined;
  if (echo !== undefined) return { reasoning: [], answer: exactTokens(echo), toolCalls: [] };
  if (hasCapability(model, 'router') && messages.at(-1)?.role === 'user') return { reasoning: [], answer: [routingAnswer(messages)], toolCalls: [] };
  const reasoning = reasoningFor(model, messages);
  const toolResults = trailingToolResults(messages);
  if (toolResults.length > 0) return { reasoning, answer: tokenize(toolResultAnswer(model, messages, toolResults)), toolCalls: [] };
  if (offeredTools?.length && messages.at(-1)?.role === 'user') {
    const toolCalls = planToolCalls(messages.at(-1)!.content, offeredTools, `${model.name}\u0000${conversationKey(messages)}`);
    if (toolCalls.length > 0) return { reasoning, answer: [], toolCalls };
  }
  return { reasoning, answer: tokenize(proseAnswer(model, messages)), toolCalls: [] };
}

/**
 * The exact text a model answers to a conversation: `text` is what the content stream concatenates
 * to (for thinkFormat 'tags' models the stream puts `<think>${reasoning}</think>\n\n` before it),
 * `reasoning` what the reasoning stream concatenates to, `tokens` the content tokens one by one.
 * A bare name resolves to the DEMO_MODELS spec of that name, else to the defaults. Pass `tools`
 * (the offered tool names) to see the tool calls a prompt triggers.
 */
export function simulatedAnswer(
  model: SimModelSpec | string,
  messages: Array<{ role: string; content: string }>,
  options: { tools?: string[] } = {},
): { text: string; reasoning: string; tokens: string[]; toolCalls: SimToolCall[] } {
  const spec = typeof model === 'string' ? (DEMO_MODELS.find((demo) => demo.name === model) ?? { name: model }) : model;
  const resolved = resolveModel(spec);
  const reply = composeReply(resolved, normalizeMessages(messages), options.tools);
  return { text: reply.answer.join(''), reasoning: reply.reasoning.join(''), tokens: reply.answer, toolCalls: reply.toolCalls };
}
