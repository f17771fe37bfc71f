import { z } from 'zod';
import type { ToolSpec } from '../providers/types.js';
import type { Tool } from './tool.js';

/** Names OpenAI-compatible servers accept for functions. */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The tools offered to models, by name. */
export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: readonly Tool[] = []) {
    for (const tool of tools) this.add(tool);
  }

  add(tool: Tool): void {
    if (!TOOL_NAME.test(tool.name)) throw new Error(`tool name "${tool.name}" must be 1-64 letters, digits, _ or -`);
    if (this.tools.has(tool.name)) throw new Error(`duplicate tool name "${tool.name}"`);
    this.tools.set(tool.name, tool);
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  /** What models see: each tool's arguments as JSON schema (the input side: defaulted fields are optional). */
  toToolSpecs(): ToolSpec[] {
    return [...this.tools.values()].map((tool) => ({
      name: tool.name,
      description: tool.description,
      parameters: argumentsSchema(tool.schema),
    }));
  }
}

function argumentsSchema(schema: z.ZodObject): Record<string, unknown> {
  // `$schema` only costs prompt tokens; models and servers ignore it.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input' });
  return rest;
}
