import type { z } from 'zod';

/**
 * A tool a model may call: a name, a description the model reads, a zod object schema its
 * arguments must satisfy, and the handler that does the work under its own time limit.
 */
export interface Tool<Schema extends z.ZodObject = z.ZodObject> {
  /** What the model calls it: letters, digits, _ and - (the limit OpenAI-compatible servers enforce). */
  name: string;
  description: string;
  schema: Schema;
  /** Gets the arguments after validation; the signal aborts on timeout or when the conversation is cancelled. */
  handler(args: z.infer<Schema>, ctx: { signal: AbortSignal }): Promise<unknown>;
  timeoutMs: number;
}

/** Identity, for type inference: the handler's `args` get the schema's type. */
export function defineTool<Schema extends z.ZodObject>(tool: Tool<Schema>): Tool<Schema> {
  return tool;
}

