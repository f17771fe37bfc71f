import { Gauge, Registry } from 'prom-client';
import type { SimEngine } from './engine.js';

/** KV-cache slots assumed when no concurrency limit is configured, for a plausible usage gauge. */
const DEFAULT_SEQUENCE_SLOTS = 8;

/** Share of a synthetic KV cache (context length × sequence slots) held by the model's running chats. */
function kvCacheUsage(engine: SimEngine, model: string): number {
  const { contextLength } = engine.models.get(model)!;
  const slots = engine.options.maxConcurrent ?? DEFAULT_SEQUENCE_SLOTS;
  const running = engine.chatsOf(model);
  const tokens = running.reduce((sum, chat) => sum + chat.promptTokens + chat.emitted, 0);
  return Math.min(1, tokens / (contextLength * slots));
}

/** vLLM's Prometheus gauges, read from the engine at scrape time. */
export function createVllmMetrics(engine: SimEngine): Registry {
  const registry = new Registry();
  const perModel = (name: string, help: string, read: (model: string) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['model_name'],
      registers: [registry],
      collect() {
        for (const model of engine.models.keys()) this.set({ model_name: model }, read(model));
      },
    });
  perModel('vllm:num_requests_running', 'Number of requests in model execution batches.', (model) => engine.admission.runningOf(model));
  perModel('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', (model) => engine.admission.waitingOf(model));
  new Gauge({
    name: 'vllm:gpu_memory_usage_bytes',
    help: 'Simulator only: GPU memory held by the engine (weights; 0 while asleep).',
    registers: [registry],
    collect() {
      this.set(engine.memoryMb() * 2 ** 20);
    },
  });
  perModel('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', (model) => kvCacheUsage(engine, model));
  return registry;
}
