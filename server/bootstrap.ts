import type { Logger } from 'pino';
import type { BackendConfig, Config } from './config/schema.js';
import { DEMO_MODELS, startSimulator, type Simulator } from './sim/index.js';

/**
 * Embedded defaults: with no backend declared, use a local Ollama when one answers, otherwise
 * the built-in simulator's demo models (labelled "demo" everywhere). Declared backends are used
 * as they are.
 */
export async function resolveBackends(config: Config, logger: Logger): Promise<{ config: Config; demo?: Simulator }> {
  if (config.backends.length > 0 && config.demo !== 'on') return { config };
  if (config.demo === 'auto' && (await answers(config.ollamaUrl))) {
    logger.info({ url: config.ollamaUrl }, 'no backends configured: using the local Ollama');
    return { config: withBackends(config, [{ id: 'ollama', kind: 'ollama', url: config.ollamaUrl, gpu: false, demo: false }]) };
  }
  if (config.demo === 'off') {
    logger.warn('no backends configured and demo is off: the arena has no models');
    return { config };
  }
  const demo = await startSimulator({ flavor: 'ollama', models: DEMO_MODELS, preloaded: true });
  logger.info({ url: demo.url, models: DEMO_MODELS.map((m) => m.name) }, 'DEMO MODE: no model backend found, serving simulated demo models');
  const backend: BackendConfig = { id: 'demo', kind: 'ollama', url: demo.url, gpu: false, demo: true };
  // Demo mode replaces whatever was declared: every demo model is an arena model.
  return { config: { ...config, backends: [backend], models: [] }, demo };
}

function withBackends(config: Config, backends: BackendConfig[]): Config {
  return { ...config, backends };
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return res.ok && (await res.text()).includes('Ollama');
  } catch {
    return false;
  }
}
