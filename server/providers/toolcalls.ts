import { randomBytes } from 'node:crypto';
import type { ToolCall } from './types.js';

/**
 * One accumulator for every tool-call wire shape:
 * - OpenAI: `{index, id?, function:{name?, arguments?}}` fragments, arguments concatenated per index;
 * - servers that reuse index 0 for parallel calls and tell them apart only by `id`
 *   (a new id at a known index starts a new call);
 * - Ollama native: whole calls whose arguments are already an object.
 * Never throws: arguments that are not a JSON object come back with `argumentsError` set.
 */

export interface ToolCallFragment {
  index?: number;
  id?: string;
  name?: string;
  arguments?: string | Record<string, unknown>;
}

export interface WholeToolCall {
  id?: string;
  name: string;
  arguments: unknown;
}

interface PendingCall {
  id?: string;
  name: string;
  args: string;
}

export class ToolCallAccumulator {
  /** Calls still receiving fragments, in arrival order. */
  private pending: PendingCall[] = [];
  private byIndex = new Map<number, PendingCall>();

  addFragment(fragment: ToolCallFragment): void {
    const index = fragment.index ?? 0;
    let call = this.byIndex.get(index);
    const startsNewCall = !call || (fragment.id !== undefined && call.id !== undefined && fragment.id !== call.id);
    if (startsNewCall) {
      call = { id: fragment.id, name: '', args: '' };
      this.pending.push(call);
      this.byIndex.set(index, call);
    }
    const current = call as PendingCall;
    current.id ??= fragment.id;
    if (fragment.name) current.name = mergeName(current.name, fragment.name);
    if (fragment.arguments !== undefined) current.args += argumentText(fragment.arguments);
  }

  /** A call that arrives complete (Ollama native) is finished at once. */
  complete(call: WholeToolCall): ToolCall {
    return finishCall({ id: call.id, name: call.name, args: argumentText(call.arguments) });
  }

  /** Ends the fragment phase: every pending call is returned, in arrival order. */
  drain(): ToolCall[] {
    const calls = this.pending.map(finishCall);
    this.pending = [];
    this.byIndex.clear();
    return calls;
  }
}

/** Some servers repeat the whole name in every fragment, others split it: handle both. */
function mergeName(current: string, incoming: string): string {
  if (!current || incoming === current) return incoming;
  return current + incoming;
}

function argumentText(args: unknown): string {
  if (typeof args === 'string') return args;
  if (args === undefined || args === null) return '';
  return JSON.stringify(args);
}

function finishCall(call: PendingCall): ToolCall {
  const base = { id: call.id || generateCallId(), name: call.name, rawArguments: call.args };
  const parsed = parseArguments(call.args);
  return 'error' in parsed
    ? { ...base, arguments: {}, argumentsError: parsed.error }
    : { ...base, arguments: parsed.value };
}

function parseArguments(raw: string): { value: Record<string, unknown> } | { error: string } {
  if (raw.trim() === '') return { value: {} };
  try {
    const value: unknown = JSON.parse(raw);
    if (value && typeof value === 'object' && !Array.isArray(value)) return { value: value as Record<string, unknown> };
    return { error: 'arguments are not a JSON object' };
  } catch (err) {
    return { error: `arguments are not valid JSON: ${(err as Error).message}` };
  }
}

function generateCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}
