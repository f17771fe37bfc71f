import { composeReply } from './answer.js';
import { ollamaOpenAiModel, vllmModel } from './catalog.js';
import { refusalFor, startChat } from './chat-gate.js';
import { lastUserText, normalizeMessages, promptTokenCount } from './conversation.js';
import type { SimEngine } from './engine.js';
import { modelNotFoundMessage, sendError, type ErrorDialect } from './errors.js';
import { sendJson } from './http.js';
import { findModel, hasCapability, type SimModel } from './models.js';
import { OpenAiBufferedSink, OpenAiStreamSink } from './openai-sink.js';
import { buildPlan } from './plan.js';
import { OpenAiChatBody, readValidBody } from './request-schemas.js';
import type { RouteContext, Routes } from './router.js';
import { wantsSharedIndex } from './tools.js';

/** Requests the model refuses outright (400), in the flavor's own words. */
function validationError(engine: SimEngine, model: SimModel, body: OpenAiChatBody, promptTokens: number): string | undefined {
  const wantsTools = Boolean(body.tools?.length) && body.tool_choice !== 'none';
  if (wantsTools && !hasCapability(model, 'tools')) {
    return engine.flavor === 'vllm'
      ? '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'
      : `registry.ollama.ai/library/${model.name} does not support tools`;
  }
  const requested = promptTokens + (body.max_completion_tokens ?? body.max_tokens ?? 0);
  if (engine.flavor === 'vllm' && requested > model.contextLength) {
    return `This model's maximum context length is ${model.contextLength} tokens. However, you requested ${requested} tokens. Please reduce the length of the messages or completion.`;
  }
  return undefined;
}

/** vLLM knows models by exact id; Ollama's /v1 layer resolves names like its native API. */
function lookup(engine: SimEngine, name: string): SimModel | undefined {
  return engine.flavor === 'vllm' ? engine.models.get(name) : findModel(engine.models, name);
}

async function chatCompletions(engine: SimEngine, dialect: ErrorDialect, ctx: RouteContext): Promise<void> {
  const receivedAt = performance.now();
  const body = await readValidBody(ctx, OpenAiChatBody, dialect);
  if (!body) return;
  engine.noteRequest(body.model, ctx.url.pathname, body);
  const model = lookup(engine, body.model);
  if (!model) return sendError(ctx.res, dialect, 404, modelNotFoundMessage(dialect, body.model), 'model');
  const refusal = refusalFor(engine, model);
  if (refusal) return sendError(ctx.res, dialect, refusal.status, refusal.message);
  const messages = normalizeMessages(body.messages);
  const promptTokens = promptTokenCount(messages);
  const invalid = validationError(engine, model, body, promptTokens);
  if (invalid) return sendError(ctx.res, dialect, 400, invalid);

  const offeredTools = body.tool_choice === 'none' ? undefined : body.tools?.map((tool) => tool.function.name);
  const sharedToolIndex = wantsSharedIndex(lastUserText(messages));
  const plan = buildPlan(model, composeReply(model, messages, offeredTools), {
    includeReasoning: true,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    argumentsAsObjects: false,
    sharedToolIndex,
  });
  const sinkOptions = {
    flavor: engine.flavor,
    model: model.name,
    includeUsage: body.stream_options?.include_usage === true,
    wholeToolCalls: engine.flavor === 'ollama' || sharedToolIndex,
  };
  const sink = body.stream ? new OpenAiStreamSink(ctx.res, sinkOptions) : new OpenAiBufferedSink(ctx.res, sinkOptions);
  // Ollama's /v1 layer ignores keep_alive; vLLM never unloads anyway.
  await startChat(engine, { model, plan, promptTokens, keepAliveMs: engine.defaultKeepAliveMs, receivedAt }, sink, ctx.res);
}

export function openAiRoutes(engine: SimEngine): Routes {
  const dialect: ErrorDialect = engine.flavor === 'vllm' ? 'vllm' : 'ollama-openai';
  const describe = engine.flavor === 'vllm' ? vllmModel : ollamaOpenAiModel;
  return {
    'GET /v1/models': ({ res }) => sendJson(res, 200, { object: 'list', data: [...engine.models.values()].map(describe) }),
    'POST /v1/chat/completions': (ctx) => chatCompletions(engine, dialect, ctx),
  };
}
