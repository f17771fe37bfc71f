/**
 * Token counts with cl100k_base (tiktoken's gpt-3.5-turbo encoding, which FastChat's conv_metadata
 * uses), the same tokenizer for every model so counts compare across models. The encoder's tables
 * take ~0.4 s to load, so they load on first use rather than with the server.
 */

type Counter = (text: string) => number;
let loading: Promise<Counter> | undefined;

export async function tokenCounter(): Promise<Counter> {
  loading ??= import('gpt-tokenizer/encoding/cl100k_base').then((module) => (text: string) => module.countTokens(text));
  return loading;
}
