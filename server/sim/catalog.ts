import { createHash } from 'node:crypto';
import type { SimModel } from './models.js';

/** How models are described on each wire: Ollama tags/ps/show, Ollama /v1 and vLLM model lists. */

const MB = 1024 * 1024;
/** When a model was "pulled"; fixed so listings are stable. */
const MODIFIED_AT = '2025-01-01T00:00:00Z';
const CREATED = 1735689600;
/** Ollama shows a keep_alive of "forever" as an expiry centuries away. */
const FOREVER = '2318-01-01T00:00:00Z';

function digestOf(model: SimModel): string {
  return createHash('sha256').update(model.name).digest('hex');
}

function details(model: SimModel) {
  const family = model.family ?? model.name.split(/[:/]/)[0]!;
  return {
    parent_model: '',
    format: 'gguf',
    family,
    families: [family],
    // Roughly what a Q4_K_M quantised model of this size holds.
    parameter_size: `${(model.sizeMb / 600).toFixed(1)}B`,
    quantization_level: 'Q4_K_M',
  };
}

export function ollamaTag(model: SimModel) {
  return {
    name: model.name,
    model: model.name,
    modified_at: MODIFIED_AT,
    size: model.sizeMb * MB,
    digest: digestOf(model),
    details: details(model),
  };
}

export function ollamaRunning(model: SimModel, expiresAt: number) {
  return {
    name: model.name,
    model: model.name,
    size: model.sizeMb * MB,
    digest: digestOf(model),
    details: details(model),
    expires_at: Number.isFinite(expiresAt) ? new Date(expiresAt).toISOString() : FOREVER,
    size_vram: model.sizeMb * MB,
    context_length: model.contextLength,
  };
}

export function ollamaShow(model: SimModel) {
  const modelDetails = details(model);
  return {
    license: '',
    modelfile: `FROM ${model.name}\n`,
    parameters: `num_ctx ${model.contextLength}`,
    template: '{{ .Prompt }}',
    details: modelDetails,
    model_info: {
      'general.architecture': modelDetails.family,
      'general.parameter_count': Math.round((model.sizeMb / 600) * 1e9),
      [`${modelDetails.family}.context_length`]: model.contextLength,
    },
    capabilities: model.capabilities,
    modified_at: MODIFIED_AT,
  };
}

export function ollamaOpenAiModel(model: SimModel) {
  return { id: model.name, object: 'model', created: CREATED, owned_by: 'library' };
}

export function vllmModel(model: SimModel) {
  return {
    id: model.name,
    object: 'model',
    created: CREATED,
    owned_by: 'vllm',
    root: model.name,
    parent: null,
    max_model_len: model.contextLength,
  };
}
