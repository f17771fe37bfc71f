/** The protocol-free view of a chat the answer generator works on. */
export interface SimMessage {
  role: string;
  content: string;
}

/** OpenAI content may be a string, null (assistant tool calls) or an array of parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part && typeof part === 'object' && 'text' in part && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

export function normalizeMessages(messages: ReadonlyArray<{ role: string; content?: unknown }>): SimMessage[] {
  return messages.map((message) => ({ role: message.role, content: contentText(message.content) }));
}

/** Prompt size as the simulator counts it: words across all messages. */
export function promptTokenCount(messages: readonly SimMessage[]): number {
  return messages.reduce((sum, message) => sum + (message.content.match(/\S+/g)?.length ?? 0), 0);
}

export function lastUserText(messages: readonly SimMessage[]): string {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return messages[i]!.content;
  return '';
}

/** Contents of the tool results that close the conversation (empty when the last turn is not a tool result). */
export function trailingToolResults(messages: readonly SimMessage[]): string[] {
  const results: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]!.role === 'tool'; i--) results.unshift(messages[i]!.content);
  return results;
}

/** The canonical text a conversation hashes from, identical whichever wire it arrived on. */
export function conversationKey(messages: readonly SimMessage[]): string {
  return messages.map((message) => `${message.role}\u0001${message.content}`).join('\u0002');
}
