import { describe, expect, it } from 'vitest';
import { BackendSchema } from '../../server/config/schema.js';
import { buildCatalog } from '../../server/models/catalog.js';
import type { DiscoveryResult } from '../../server/models/discovery.js';
import { groupKeyFor, modelGroupKey } from '../../server/models/model-identity.js';

/**
 * Auto mode's grouping key on real names: Hugging Face repos as vLLM serves them (with org,
 * quantisation and format suffixes) and Ollama library tags, as listed on huggingface.co and
 * ollama.com/library.
 */

/** Each row: names that are one model. */
const SAME: string[][] = [
  ['Qwen/Qwen2.5-7B-Instruct', 'qwen2.5:7b-instruct', 'qwen2.5:7b', 'qwen2.5:7b-instruct-q4_K_M', 'Qwen/Qwen2.5-7B-Instruct-AWQ', 'bartowski/Qwen2.5-7B-Instruct-GGUF', 'mlx-community/Qwen2.5-7B-Instruct-4bit', 'Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4'],
  ['meta-llama/Llama-3.1-8B-Instruct', 'llama3.1:8b', 'llama3.1:8b-instruct-q4_K_M', 'llama3.1:8b-instruct-fp16', 'meta-llama/Meta-Llama-3.1-8B-Instruct', 'neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8', 'hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4'],
  ['meta-llama/Llama-3.1-70B-Instruct', 'llama3.1:70b', 'llama3.1:70b-instruct-q8_0'],
  ['meta-llama/Meta-Llama-3-8B-Instruct', 'llama3:8b', 'llama3:8b-instruct-q5_K_M'],
  ['meta-llama/Llama-3.2-3B-Instruct', 'llama3.2:3b', 'hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M', 'llama3.2:3b-instruct-q8_0'],
  ['unsloth/Llama-3.2-1B-Instruct-bnb-4bit', 'llama3.2:1b-instruct-fp16', 'llama3.2:1b'],
  ['meta-llama/Llama-2-7b-chat-hf', 'llama2:7b-chat', 'llama2:7b-chat-q4_0'],
  ['google/gemma-2-9b-it', 'gemma2:9b', 'gemma2:9b-instruct-q4_K_M'],
  ['google/gemma-3-27b-it', 'gemma3:27b', 'gemma3:27b-it-qat', 'gemma3:27b-it-q4_K_M'],
  ['google/gemma-3-4b-it-qat-q4_0-gguf', 'gemma3:4b', 'gemma3:4b-it-fp16'],
  ['mistralai/Mistral-7B-Instruct-v0.3', 'mistral:7b-instruct-v0.3-q4_K_M', 'mistral:7b-instruct-v0.3-fp16'],
  ['TheBloke/Mistral-7B-Instruct-v0.2-GPTQ', 'mistral:7b-instruct-v0.2-q4_0', 'TheBloke/Mistral-7B-Instruct-v0.2-AWQ'],
  ['mistralai/Mistral-Small-24B-Instruct-2501', 'mistral-small:24b-instruct-2501-q4_K_M'],
  ['Qwen/Qwen2.5-Coder-7B-Instruct', 'qwen2.5-coder:7b', 'qwen2.5-coder:7b-instruct-q8_0'],
  ['Qwen/Qwen2.5-14B-Instruct', 'qwen2.5:14b', 'qwen2.5:14b-instruct-q4_K_M'],
  ['Qwen/QwQ-32B', 'qwq:32b', 'qwq:32b-q8_0', 'Qwen/QwQ-32B-AWQ'],
  ['Qwen/Qwen3-8B', 'qwen3:8b', 'qwen3:8b-q4_K_M', 'Qwen/Qwen3-8B-FP8', 'Qwen/Qwen3-8B-AWQ'],
  ['Qwen/Qwen3-30B-A3B', 'qwen3:30b-a3b', 'qwen3:30b-a3b-q4_K_M'],
  ['deepseek-r1:7b', 'deepseek-r1:7b-q4_K_M', 'DeepSeek-R1:7B'],
  ['microsoft/phi-4', 'phi4:latest', 'phi4', 'phi4:q8_0'],
  ['microsoft/Phi-3-mini-4k-instruct', 'phi3:mini-4k', 'phi3:mini-4k-instruct-q4_0'],
  ['ibm-granite/granite-3.1-8b-instruct', 'granite-3.1:8b'],
  ['HuggingFaceTB/SmolLM2-1.7B-Instruct', 'smollm2:1.7b', 'smollm2:1.7b-instruct-q4_K_M'],
  ['mistralai/Mixtral-8x7B-Instruct-v0.1', 'mixtral:8x7b-instruct-v0.1-q4_0'],
  ['CohereForAI/aya-expanse-8b', 'aya-expanse:8b'],
  ['tiiuae/falcon3-7b-instruct', 'falcon3:7b', 'falcon3:7b-instruct-q4_K_M'],
  ['llama3', 'llama3:latest', 'LLAMA3:LATEST'],
];

/** Each row: names that must stay apart (different size, variant, generation or base vs text). */
const DIFFERENT: Array<[string, string]> = [
  ['llama3.1:8b', 'llama3.1:70b'],
  ['llama3.1:8b', 'llama3:8b'],
  ['llama3.1:8b', 'llama3.2:3b'],
  ['llama3.1:8b', 'llama3.1:8b-text-q4_0'],
  ['llama3.2:3b', 'llama3.2-vision:11b'],
  ['qwen2.5:7b', 'qwen2.5-coder:7b'],
  ['qwen2.5:7b', 'qwen2.5:14b'],
  ['qwen2.5:7b', 'qwen2:7b'],
  ['qwen2.5:7b', 'qwen2.5'],
  ['Qwen/Qwen3-8B', 'qwen3:4b'],
  ['qwen3:30b-a3b', 'qwen3:32b'],
  ['phi3:mini', 'phi3:medium'],
  ['phi3:mini', 'microsoft/Phi-3-mini-4k-instruct'],
  ['phi3:mini-4k', 'phi3:mini-128k'],
  ['phi4:14b', 'phi4-mini:3.8b'],
  ['deepseek-r1:7b', 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B'],
  ['deepseek-r1:8b', 'deepseek-r1:7b'],
  ['deepseek-v3', 'deepseek-r1'],
  ['mistral:7b-instruct-v0.3-q4_K_M', 'mistral:7b-instruct-v0.2-q4_0'],
  ['mistralai/Mistral-Nemo-Instruct-2407', 'mistral-nemo:12b-instruct-2407-q4_0'],
  ['mixtral:8x7b', 'mixtral:8x22b'],
  ['gemma2:9b', 'gemma2:27b'],
  ['gemma2:9b', 'gemma3:12b'],
  ['google/gemma-3-4b-it', 'google/gemma-3-1b-it'],
  ['codellama:7b', 'llama2:7b'],
  ['llava:7b', 'mistral:7b'],
  ['starcoder2:3b', 'starcoder2:7b'],
  ['nomic-embed-text', 'mxbai-embed-large'],
  ['smollm2:1.7b', 'smollm2:360m'],
  ['Qwen/Qwen2.5-Math-7B-Instruct', 'Qwen/Qwen2.5-7B-Instruct'],
  ['Qwen/Qwen2-VL-7B-Instruct', 'Qwen/Qwen2-7B-Instruct'],
  ['mistral-small:24b-instruct-2501-q4_K_M', 'mistral-small:22b-instruct-2409-q4_K_M'],
];

describe('modelGroupKey: one model under its Hugging Face and Ollama names', () => {
  it.each(SAME.map((row) => [row[0], row]))('%s', (_first, row) => {
    const keys = new Set((row as string[]).map(modelGroupKey));
    expect([...keys]).toHaveLength(1);
  });

  it('keeps different sizes, variants, generations and versions apart', () => {
    const merged = DIFFERENT.filter(([a, b]) => modelGroupKey(a) === modelGroupKey(b));
    expect(merged.map(([a, b]) => `${a} ≡ ${b} (${modelGroupKey(a)})`)).toEqual([]);
    expect(DIFFERENT.length + SAME.flat().length).toBeGreaterThanOrEqual(120);
  });

  it('documented examples', () => {
    expect(modelGroupKey('Qwen/Qwen2.5-7B-Instruct')).toBe('qwen2.5-7b');
    expect(modelGroupKey('qwen2.5:7b-instruct')).toBe('qwen2.5-7b');
    expect(modelGroupKey('meta-llama/Meta-Llama-3.1-8B-Instruct-FP8')).toBe('llama3.1-8b');
    expect(modelGroupKey('gemma3:27b-it-qat')).toBe('gemma3-27b');
  });

  it('an alias joins names the rule keeps apart, or separates names it would join', () => {
    const aliases = { 'phi3:mini': 'microsoft/Phi-3-mini-4k-instruct', 'qwen2.5:7b': 'my-separate-qwen' };
    expect(groupKeyFor('phi3:mini', aliases)).toBe(modelGroupKey('microsoft/Phi-3-mini-4k-instruct'));
    expect(groupKeyFor('qwen2.5:7b', aliases)).not.toBe(groupKeyFor('Qwen/Qwen2.5-7B-Instruct', aliases));
  });
});

describe('auto-mode catalog grouping', () => {
  const gpu = BackendSchema.parse({ id: 'gpu', kind: 'vllm', url: 'http://10.0.0.3:8000', gpu: true });
  const cpu = BackendSchema.parse({ id: 'cpu', kind: 'ollama', url: 'http://10.0.0.2:11434' });
  const model = (name: string) => ({ name, capabilities: ['completion'] });
  const found = new Map<string, DiscoveryResult>([
    ['cpu', { ok: true, models: [model('qwen2.5:7b-instruct'), model('qwen2.5:7b-instruct-q8_0'), model('phi3:mini'), model('llama3.1:8b')] }],
    ['gpu', { ok: true, models: [model('Qwen/Qwen2.5-7B-Instruct'), model('microsoft/Phi-3-mini-4k-instruct')] }],
  ]);
  const grouped = (aliases: Record<string, string> = {}, groupByName = true) =>
    buildCatalog([cpu, gpu], [], found, new Date(0), { groupByName, aliases }).models.map((m) => [m.id, m.deployments.map((d) => d.key)]);

  it('groups GPU and CPU copies (GPU first, id from the GPU name); a second name on one backend stays its own model', () => {
    expect(grouped()).toEqual([
      ['Qwen/Qwen2.5-7B-Instruct', ['gpu/Qwen/Qwen2.5-7B-Instruct', 'cpu/qwen2.5:7b-instruct']],
      ['microsoft/Phi-3-mini-4k-instruct', ['gpu/microsoft/Phi-3-mini-4k-instruct']],
      ['qwen2.5:7b-instruct-q8_0', ['cpu/qwen2.5:7b-instruct-q8_0']],
      ['phi3:mini', ['cpu/phi3:mini']],
      ['llama3.1:8b', ['cpu/llama3.1:8b']],
    ]);
  });

  it('keeps a group\'s id when its GPU copy is missing at a later discovery; an alias target is the id', () => {
    const first = buildCatalog([cpu, gpu], [], found, new Date(0), { groupByName: true, aliases: {} });
    const gpuDown = new Map<string, DiscoveryResult>([['cpu', found.get('cpu')!], ['gpu', { ok: false, error: 'refused' }]]);
    const later = buildCatalog([cpu, gpu], [], gpuDown, new Date(0), { groupByName: true, aliases: {}, ids: first.autoIds });
    expect(later.models.map((m) => [m.id, m.deployments.map((d) => d.key)])).toContainEqual(['Qwen/Qwen2.5-7B-Instruct', ['cpu/qwen2.5:7b-instruct']]);
    expect(later.models.map((m) => m.id)).toContain('qwen2.5:7b-instruct-q8_0'); // the second copy on one backend keeps its own name
    const fresh = buildCatalog([cpu, gpu], [], gpuDown, new Date(0), { groupByName: true, aliases: { 'qwen2.5:7b-instruct': 'qwen-7b' } });
    expect(fresh.models.map((m) => m.id)).toContain('qwen-7b');
  });

  it('follows the alias map, and exact names only when grouping is off', () => {
    expect(grouped({ 'phi3:mini': 'microsoft/Phi-3-mini-4k-instruct' })).toContainEqual([
      'microsoft/Phi-3-mini-4k-instruct',
      ['gpu/microsoft/Phi-3-mini-4k-instruct', 'cpu/phi3:mini'],
    ]);
    expect(grouped({}, false).map(([id]) => id)).toEqual([
      'Qwen/Qwen2.5-7B-Instruct',
      'microsoft/Phi-3-mini-4k-instruct',
      'qwen2.5:7b-instruct',
      'qwen2.5:7b-instruct-q8_0',
      'phi3:mini',
      'llama3.1:8b',
    ]);
  });
});
