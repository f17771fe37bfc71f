import type { z } from 'zod';
import type { ToolCall } from '../providers/types.js';
import type { ToolRegistry } from './registry.js';

/** How one tool call ended. Never a thrown error: every failure is an outcome the model gets to read. */
export type ToolOutcome = { ok: true; result: unknown; ms: number } | { ok: false; error: string; ms: number };

/**
 * Runs one call: finds the tool, validates the arguments, and runs the handler under the tool's
 * time limit (or until `signal` aborts). A handler that ignores its signal is abandoned at the
 * deadline rather than waited for.
 */
export async function runToolCall(registry: ToolRegistry, call: ToolCall, signal?: AbortSignal): Promise<ToolOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const result = await execute(registry, call, signal);
    assertSerializable(result);
    return { ok: true, result, ms: elapsed() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), ms: elapsed() };
  }
}

async function execute(registry: ToolRegistry, call: ToolCall, signal?: AbortSignal): Promise<unknown> {
  const tool = registry.get(call.name);
  if (!tool) throw new Error(`unknown tool "${call.name}" (available: ${registry.names().join(', ') || 'none'})`);
  if (call.argumentsError) throw new Error(`invalid arguments: ${call.argumentsError}`);
  const parsed = tool.schema.safeParse(call.arguments);
  if (!parsed.success) throw new Error(`invalid arguments: ${describeIssues(parsed.error)}`);
  return withDeadline(tool.name, tool.timeoutMs, signal, (toolSignal) => tool.handler(parsed.data, { signal: toolSignal }));
}

async function withDeadline<T>(name: string, timeoutMs: number, outer: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const cancelled = () => new Error(`tool "${name}" was cancelled`);
  if (outer?.aborted) throw cancelled();
  const deadline = new AbortController();
  const signal = outer ? AbortSignal.any([outer, deadline.signal]) : deadline.signal;
  let timer: NodeJS.Timeout | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const fail = () => reject(outer?.aborted ? cancelled() : new Error(`tool "${name}" timed out after ${timeoutMs} ms`));
    signal.addEventListener('abort', fail, { once: true });
    timer = setTimeout(() => deadline.abort(), timeoutMs);
  });
  try {
    return await Promise.race([work(signal), stopped]);
  } finally {
    clearTimeout(timer);
    // Tells work the handler left running to stop, and detaches from the outer signal.
    deadline.abort();
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}

/** The result travels to the model as JSON: catch what JSON cannot carry (bigint, cycles) here, as a tool error. */
function assertSerializable(result: unknown): void {
  try {
    JSON.stringify(result);
  } catch (err) {
    throw new Error(`the tool returned a value that is not JSON: ${(err as Error).message}`);
  }
}
