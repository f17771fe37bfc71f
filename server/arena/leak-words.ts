/**
 * The words that would name a model or its maker: from its arena id and every deployment's model
 * name (`model-a` served by `meta-llama/Llama-3.1-8B-Instruct` is a Llama), plus the vendor and
 * product names of its family in the languages its answers may use.
 */

/** Family pattern (tested on the names) → names of the model and its maker, in several scripts. */
const FAMILY_WORDS: [RegExp, string[]][] = [
  [/llama|meta/i, ['llama', 'meta', 'meta ai']],
  [/qwen|qwq|tongyi/i, ['qwen', 'qwq', 'tongyi', 'alibaba', '通义千问', '通義千問', '通义', '千问', '阿里巴巴', '阿里云', 'アリババ', 'алибаба']],
  [/mistral|mixtral|ministral|codestral|pixtral/i, ['mistral', 'mixtral', 'mistral ai']],
  [/gemma|gemini/i, ['gemma', 'gemini', 'google', 'deepmind', '谷歌', 'グーグル', 'ジェミニ', 'гугл']],
  [/gpt(?!q)|openai|^o\d/i, ['openai', 'chatgpt', 'gpt', 'オープンai']],
  [/claude|anthropic/i, ['claude', 'anthropic', 'クロード']],
  [/\bphi|microsoft/i, ['phi', 'microsoft', '微软', 'マイクロソフト', 'майкрософт']],
  [/deepseek/i, ['deepseek', '深度求索']],
  [/command|cohere|aya/i, ['cohere', 'command r', 'command a']],
  [/granite/i, ['granite', 'ibm']],
  [/glm|zhipu/i, ['glm', 'chatglm', 'zhipu', '智谱', '智谱ai']],
  [/baichuan/i, ['baichuan', '百川']],
  [/\byi\b|01-ai/i, ['yi', '01.ai', '零一万物']],
  [/internlm/i, ['internlm', '书生', '上海人工智能实验室']],
  [/ernie|baidu/i, ['ernie', 'baidu', '百度', '文心一言', '文心']],
  [/falcon|tiiuae/i, ['falcon', 'technology innovation institute']],
  [/olmo|allenai/i, ['olmo', 'allen institute', 'ai2']],
  [/smollm|huggingface/i, ['smollm', 'hugging face']],
  [/nemotron|nvidia/i, ['nemotron', 'nvidia']],
  [/kimi|moonshot/i, ['kimi', 'moonshot', '月之暗面']],
  [/gigachat/i, ['gigachat', 'сбер', 'sber']],
];

/**
 * Fragments of model names that name nothing: sizes, quantisation and format tags, tuning
 * suffixes, product tiers, uploaders, and plain words an answer says about itself ("I'm a bit…",
 * "I am an assistant", "a command-line tool").
 */
const STOPLIST = new Set(
  `instruct instruction chat base model models preview latest turbo mini small medium large tiny nano micro pro plus max ultra
   lite light flash fast awq gguf ggml gptq exl bnb bit bits mlx sft dpo orpo rlhf distill distilled vision coder code math
   reasoning reasoner thinking think experimental exp beta alpha release final community unsloth thebloke bartowski lmstudio
   sonnet haiku opus command assistant demo test local vllm ollama hub quant quantized merged lora adapter long context omni
   audio online uncensored abliterated dense moe expert experts next new open free edge mobile air one all the and for with
   gen generation conversation function tool tools calling embed embedding text multilingual english chinese japanese
   german french spanish russian sim mdl int fp bf hf it instruct-tuned version sage`.split(/\s+/),
);

/** Letters-only fragments of a model name that are not on the stoplist ("llama" from "llama3.1:8b"). */
export function nameWords(name: string): string[] {
  return (name.toLowerCase().match(/\p{L}+/gu) ?? []).filter((w) => w.length >= 3 && !STOPLIST.has(w));
}

/** Every word that would identify a model with these names (arena id and deployment models). */
export function leakWords(names: readonly string[]): string[] {
  const words = new Set<string>();
  for (const name of names) {
    for (const [pattern, list] of FAMILY_WORDS) if (pattern.test(name)) list.forEach((w) => words.add(w));
    nameWords(name).forEach((w) => words.add(w));
  }
  return [...words];
}
