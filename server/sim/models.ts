import type { SimModelSpec } from './types.js';

/** A model spec with every default filled in. */
export type SimModel = Required<Omit<SimModelSpec, 'family'>> & { family: string | undefined };

export function resolveModel(spec: SimModelSpec): SimModel {
  return {
    name: spec.name,
    tokensPerSecond: spec.tokensPerSecond ?? 40,
    ttftMs: spec.ttftMs ?? 40,
    loadMs: spec.loadMs ?? 300,
    sizeMb: spec.sizeMb ?? 4000,
    contextLength: spec.contextLength ?? 8192,
    capabilities: spec.capabilities ?? ['completion'],
    family: spec.family,
    thinkFormat: spec.thinkFormat ?? 'field',
    maxTokens: spec.maxTokens ?? 60,
    shapedAnswers: spec.shapedAnswers ?? false,
  };
}

export function hasCapability(model: SimModel, capability: SimModel['capabilities'][number]): boolean {
  return model.capabilities.includes(capability);
}

/** What the model calls itself when asked who it is. */
export function identityOf(model: SimModel): string {
  return model.family ?? model.name;
}

/** Ollama treats a bare name as `name:latest`; accept either spelling. */
export function findModel(models: ReadonlyMap<string, SimModel>, requested: string): SimModel | undefined {
  const exact = models.get(requested);
  if (exact) return exact;
  if (requested.endsWith(':latest')) return models.get(requested.slice(0, -':latest'.length));
  return requested.includes(':') ? undefined : models.get(`${requested}:latest`);
}

/** Varied enough for a demo: different speeds and load times, one thinking model, tool callers. */
export const DEMO_MODELS: SimModelSpec[] = [
  {
    shapedAnswers: true,
    name: 'llama3.1:8b',
    family: 'llama',
    tokensPerSecond: 45,
    ttftMs: 120,
    loadMs: 2500,
    sizeMb: 4900,
    contextLength: 131072,
    capabilities: ['completion', 'tools'],
    maxTokens: 90,
  },
  {
    shapedAnswers: true,
    name: 'qwen3:4b',
    family: 'qwen',
    tokensPerSecond: 60,
    ttftMs: 150,
    loadMs: 1800,
    sizeMb: 2600,
    contextLength: 40960,
    capabilities: ['completion', 'tools', 'thinking'],
    thinkFormat: 'field',
    maxTokens: 80,
  },
  {
    shapedAnswers: true,
    name: 'mistral:7b',
    family: 'mistral',
    tokensPerSecond: 35,
    ttftMs: 100,
    loadMs: 2200,
    sizeMb: 4400,
    contextLength: 32768,
    capabilities: ['completion', 'tools'],
    maxTokens: 70,
  },
  {
    shapedAnswers: true,
    name: 'gemma2:2b',
    family: 'gemma',
    tokensPerSecond: 90,
    ttftMs: 60,
    loadMs: 900,
    sizeMb: 1600,
    contextLength: 8192,
    maxTokens: 50,
  },
  {
    shapedAnswers: true,
    name: 'phi3:mini',
    family: 'phi',
    tokensPerSecond: 22,
    ttftMs: 200,
    loadMs: 1500,
    sizeMb: 2200,
    contextLength: 4096,
    maxTokens: 60,
  },
];
