import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Tool } from './tool.js';

/**
 * Operator tools: modules listed in config whose default export is a tool or an array of tools.
 * Paths are resolved from the working directory. A module that fails to load or exports
 * something else stops start-up with an error naming the module and what is wrong.
 */
export async function loadToolModules(paths: readonly string[]): Promise<Tool[]> {
  const loaded = await Promise.all(paths.map(loadToolModule));
  return loaded.flat();
}

async function loadToolModule(path: string): Promise<Tool[]> {
  let exported: unknown;
  try {
    exported = ((await import(pathToFileURL(resolve(path)).href)) as { default?: unknown }).default;
  } catch (err) {
    throw new Error(`tool module ${path}: cannot load it: ${(err as Error).message}`, { cause: err });
  }
  if (exported === undefined) throw new Error(`tool module ${path}: has no default export (expected a tool or an array of tools)`);
  const candidates = Array.isArray(exported) ? exported : [exported];
  return candidates.map((candidate, index) => {
    const problem = toolShapeProblem(candidate);
    if (!problem) return candidate as Tool;
    const which = Array.isArray(exported) ? `default export [${index}]` : 'default export';
    throw new Error(`tool module ${path}: ${which} is not a tool: ${problem}`);
  });
}

/** What is wrong with a value meant to be a Tool, or undefined when nothing is. */
function toolShapeProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return 'expected an object { name, description, schema, handler, timeoutMs }';
  const tool = value as Record<string, unknown>;
  if (typeof tool.name !== 'string' || tool.name === '') return '"name" must be a non-empty string';
  if (typeof tool.description !== 'string') return `"description" of "${tool.name}" must be a string`;
  if (!isZodObject(tool.schema)) return `"schema" of "${tool.name}" must be a zod object (z.object({...}))`;
  if (typeof tool.handler !== 'function') return `"handler" of "${tool.name}" must be a function`;
  if (typeof tool.timeoutMs !== 'number' || !(tool.timeoutMs > 0)) return `"timeoutMs" of "${tool.name}" must be a positive number`;
  return undefined;
}

/** Structural check: a module may bring its own copy of zod, so `instanceof` would be too strict. */
function isZodObject(value: unknown): boolean {
  const internals = (value as { _zod?: { def?: { type?: unknown } } } | null)?._zod;
  return internals?.def?.type === 'object' && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}
