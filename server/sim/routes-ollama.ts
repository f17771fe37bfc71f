import type { ServerResponse } from 'node:http';
import { composeReply } from './answer.js';
import { ollamaRunning, ollamaShow, ollamaTag } from './catalog.js';
import { refusalFor, startChat } from './chat-gate.js';
import { normalizeMessages, promptTokenCount } from './conversation.js';
import type { SimEngine } from './engine.js';
import { modelNotFoundMessage, sendError } from './errors.js';
import { clientGone, sendJson, sendText } from './http.js';
import { parseKeepAlive } from './keep-alive.js';
import { findModel, hasCapability, type SimModel } from './models.js';
import { OllamaBufferedSink, OllamaStreamSink } from './ollama-sink.js';
import { buildPlan } from './plan.js';
import { OllamaChatBody, OllamaShowBody, readValidBody } from './request-schemas.js';
import type { RouteContext, Routes } from './router.js';
import { isAbortError } from './timing.js';

/** The version the simulator claims; recent enough for `thinking` and `/api/ps` context_length. */
const OLLAMA_VERSION = '0.12.6';

/** The one-object reply Ollama gives to a load or unload request (a chat with no messages). */
function sendLifecycle(res: ServerResponse, model: SimModel, doneReason: 'load' | 'unload', stream: boolean): void {
  const body = { model: model.name, created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, done_reason: doneReason, done: true };
  if (stream) sendText(res, 200, `${JSON.stringify(body)}\n`, 'application/x-ndjson');
  else sendJson(res, 200, body);
}

async function preloadOrUnload(engine: SimEngine, ctx: RouteContext, model: SimModel, keepAliveMs: number, stream: boolean): Promise<void> {
  if (keepAliveMs === 0) {
    // Ollama answers at once but holds the unload back until the model's running chats end.
    engine.events.emit('unload-request', { model: model.name, running: engine.residency.holdsOf(model.name) });
    engine.residency.keepFor(model.name, 0);
    return sendLifecycle(ctx.res, model, 'unload', stream);
  }
  try {
    await engine.residency.load(model, clientGone(ctx.res));
  } catch (error) {
    if (isAbortError(error)) return;
    throw error;
  }
  engine.residency.keepFor(model.name, keepAliveMs);
  sendLifecycle(ctx.res, model, 'load', stream);
}

/** Capability errors Ollama answers with 400 before touching the model. */
function capabilityError(model: SimModel, body: OllamaChatBody): string | undefined {
  if (body.tools?.length && !hasCapability(model, 'tools')) return `registry.ollama.ai/library/${model.name} does not support tools`;
  if (body.think !== undefined && body.think !== false && !hasCapability(model, 'thinking')) return `"${model.name}" does not support thinking`;
  return undefined;
}

async function chat(engine: SimEngine, ctx: RouteContext): Promise<void> {
  const receivedAt = performance.now();
  const body = await readValidBody(ctx, OllamaChatBody, 'ollama');
  if (!body) return;
  engine.noteRequest(body.model, ctx.url.pathname, body);
  const model = findModel(engine.models, body.model);
  if (!model) return sendError(ctx.res, 'ollama', 404, modelNotFoundMessage('ollama', body.model));
  const keepAliveMs = parseKeepAlive(body.keep_alive);
  if (keepAliveMs === undefined) return sendError(ctx.res, 'ollama', 400, `time: invalid duration "${body.keep_alive}"`);
  const stream = body.stream ?? true;
  const refusal = refusalFor(engine, model);
  if (refusal) return sendError(ctx.res, 'ollama', refusal.status, refusal.message);
  if (!body.messages?.length) return preloadOrUnload(engine, ctx, model, keepAliveMs, stream);
  const capabilityProblem = capabilityError(model, body);
  if (capabilityProblem) return sendError(ctx.res, 'ollama', 400, capabilityProblem);

  const messages = normalizeMessages(body.messages);
  const reply = composeReply(model, messages, body.tools?.map((tool) => tool.function.name));
  const plan = buildPlan(model, reply, {
    includeReasoning: body.think !== false,
    maxTokens: body.options?.num_predict,
    argumentsAsObjects: true,
    sharedToolIndex: false,
  });
  const sink = stream ? new OllamaStreamSink(ctx.res, model.name) : new OllamaBufferedSink(ctx.res, model.name);
  await startChat(engine, { model, plan, promptTokens: promptTokenCount(messages), keepAliveMs, receivedAt }, sink, ctx.res);
}

async function show(engine: SimEngine, ctx: RouteContext): Promise<void> {
  const body = await readValidBody(ctx, OllamaShowBody, 'ollama');
  if (!body) return;
  const name = body.model ?? body.name ?? '';
  const model = findModel(engine.models, name);
  if (!model) return sendError(ctx.res, 'ollama', 404, modelNotFoundMessage('ollama', name));
  sendJson(ctx.res, 200, ollamaShow(model));
}

function running(engine: SimEngine) {
  return engine.residency.inMemoryNames().map((name) => ollamaRunning(engine.models.get(name)!, engine.residency.expiresAt(name) ?? Infinity));
}

/** Ollama's liveness answers 503 only when the whole server is unhealthy. */
function healthy(engine: SimEngine): boolean {
  return engine.faults.serverWide.kind !== 'unhealthy';
}

export function ollamaRoutes(engine: SimEngine): Routes {
  return {
    'GET /': ({ res }) => (healthy(engine) ? sendText(res, 200, 'Ollama is running') : sendText(res, 503, 'Service Unavailable')),
    'GET /api/version': ({ res }) =>
      healthy(engine) ? sendJson(res, 200, { version: OLLAMA_VERSION }) : sendError(res, 'ollama', 503, 'service unavailable'),
    'GET /api/tags': ({ res }) => sendJson(res, 200, { models: [...engine.models.values()].map(ollamaTag) }),
    'GET /api/ps': ({ res }) => sendJson(res, 200, { models: running(engine) }),
    'POST /api/show': (ctx) => show(engine, ctx),
    'POST /api/chat': (ctx) => chat(engine, ctx),
  };
}
