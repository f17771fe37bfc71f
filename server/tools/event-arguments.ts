/**
 * What a tool-call event carries to the owner and every spectator: the call's arguments, bounded.
 * A model can write megabytes of arguments; the tool gets them all, but the event (one frame per
 * watcher, stored in the battle's log and record) gets a preview with a marker instead.
 */

export const MAX_EVENT_ARGUMENT_CHARS = 2_000;

export type TruncatedArguments = {
  truncated: true;
  /** Length of the full arguments as JSON. */
  totalChars: number;
  /** The start of that JSON, ending with "…". */
  preview: string;
};

export function boundArguments(args: Record<string, unknown>): Record<string, unknown> | TruncatedArguments {
  const json = JSON.stringify(args) ?? '{}';
  if (json.length <= MAX_EVENT_ARGUMENT_CHARS) return args;
  // Cut on a code point boundary: a lone surrogate would not survive the trip as text.
  const preview = json.slice(0, MAX_EVENT_ARGUMENT_CHARS - 100).replace(/[\uD800-\uDBFF]$/, '');
  return { truncated: true, totalChars: json.length, preview: `${preview}…` };
}
