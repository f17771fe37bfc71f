/**
 * Auto mode (no `models` list) groups deployments of one model served under different names by
 * different backends, e.g. vLLM's `Qwen/Qwen2.5-7B-Instruct` and Ollama's `qwen2.5:7b-instruct`,
 * so a GPU copy and a CPU copy become one arena model with failover between them.
 *
 * The key (docs/operations.md, "Auto mode: grouping"): lower-case; drop everything up to the
 * last `/` (organisation, registry, namespace); drop `:latest`; split into tokens at `-`, `:` and
 * spaces; drop role tokens (`instruct`, `chat`, `it`, `hf`) and quantisation or format tokens
 * (`q4_k_m`, `iq3_xs`, `fp16`, `bf16`, `fp8`, `int4`, `awq`, `gptq`, `gguf`, `exl2`, `mlx`, `4bit`,
 * `w4a16`, `qat`, …); drop a leading `meta` (Meta-Llama-3 is llama3); join a name to a short
 * version that follows it (`llama-3.1` → `llama3.1`, `gemma-2` → `gemma2`). Sizes (`7b`, `8x7b`),
 * variants (`coder`, `mini`, `text`, `distill`), versions (`v0.3`) and dates (`2407`) stay, so
 * different sizes or variants never merge; when in doubt two names stay apart (an alias joins
 * them). Ollama's default tags are the chat models, which is why dropping `instruct` is right
 * for it; a Hugging Face base model (`Qwen/Qwen2.5-7B`) also maps to its instruct key, so do not
 * serve a base and an instruct model of one size in auto mode without an alias.
 */

const ROLE = new Set(['instruct', 'chat', 'it', 'hf']);

const QUANT = [
  /^i?q\d(_[a-z0-9]+)*$/, // q4_k_m, q8_0, iq3_xs
  /^(f|fp|bf)(16|32)$/,
  /^fp8$/,
  /^int[48]$/,
  /^(awq|gptq|gguf|ggml|exl2|mlx|bnb|nf4|qat|dynamic)$/,
  /^\d+bit$/,
  /^w\d+a\d+$/,
];

/** A version a name carries on its own: 3, 3.1, 2.5, 10 (not a size like 7b, not a date like 2407). */
const SHORT_VERSION = /^\d{1,2}(\.\d+)?$/;

export function modelGroupKey(name: string): string {
  const base = name.toLowerCase().trim().split('/').at(-1)!.replace(/:latest$/, '');
  const tokens = base.split(/[-:\s]+/).filter((t) => t && !ROLE.has(t) && !QUANT.some((q) => q.test(t)));
  if (tokens[0] === 'meta' && tokens.length > 1) tokens.shift();
  const joined: string[] = [];
  for (const token of tokens) {
    const previous = joined.at(-1);
    if (previous && /^[a-z]+$/.test(previous) && SHORT_VERSION.test(token)) joined[joined.length - 1] = previous + token;
    else joined.push(token);
  }
  return joined.join('-') || base;
}

/** The group a served name belongs to: its alias (itself keyed the same way) or its own key. */
export function groupKeyFor(name: string, aliases: Readonly<Record<string, string>>): string {
  return modelGroupKey(aliases[name] ?? name);
}
