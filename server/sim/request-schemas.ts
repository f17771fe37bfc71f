import { z } from 'zod';
import { sendError, type ErrorDialect } from './errors.js';
import { readJson } from './http.js';
import type { RouteContext } from './router.js';

/** The parts of each protocol's chat request the simulator acts on; everything else passes unchecked. */

const message = z.looseObject({ role: z.string(), content: z.unknown().optional() });
const tool = z.looseObject({ function: z.looseObject({ name: z.string() }) });

export const OllamaChatBody = z.looseObject({
  model: z.string({ error: 'model is required' }).min(1, 'model is required'),
  messages: z.array(message).optional(),
  stream: z.boolean().optional(),
  tools: z.array(tool).optional(),
  options: z.looseObject({ num_predict: z.number().optional() }).optional(),
  keep_alive: z.union([z.string(), z.number()]).optional(),
  think: z.union([z.boolean(), z.string()]).optional(),
});
export type OllamaChatBody = z.infer<typeof OllamaChatBody>;

export const OllamaShowBody = z.looseObject({
  model: z.string().optional(),
  name: z.string().optional(),
});

export const OpenAiChatBody = z.looseObject({
  model: z.string({ error: 'model is required' }).min(1, 'model is required'),
  messages: z.array(message).min(1, 'messages must not be empty'),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().int().nullish(),
  max_completion_tokens: z.number().int().nullish(),
  tools: z.array(tool).nullish(),
  tool_choice: z.unknown().optional(),
});
export type OpenAiChatBody = z.infer<typeof OpenAiChatBody>;

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Reads, parses and validates a request body; answers 400 in the route's dialect and returns undefined when it is bad. */
export async function readValidBody<S extends z.ZodType>(ctx: RouteContext, schema: S, dialect: ErrorDialect): Promise<z.infer<S> | undefined> {
  const body = await readJson(ctx.req);
  if (!body.ok) return void sendError(ctx.res, dialect, 400, body.message);
  const parsed = schema.safeParse(body.value);
  if (!parsed.success) return void sendError(ctx.res, dialect, 400, describeIssues(parsed.error));
  return parsed.data;
}
