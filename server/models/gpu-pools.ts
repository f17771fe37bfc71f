import type { BackendConfig, GpuConfig } from '../config/schema.js';

/**
 * Which backends share which GPU memory. A backend naming a GPU (`gpu: <id>`) shares that GPU's
 * budget with the others naming it (several Ollama instances, several vLLM engines); a GPU backend
 * with its own `vramMb` and no GPU id is its own implicit GPU (the configuration before `gpus[]`).
 * Backends in no pool load on demand but are never evicted from: they manage their own memory.
 */

export interface GpuPool {
  id: string;
  budgetMb: number;
  /** Declared under `gpus[]`, or implied by a backend's own `vramMb`. */
  implicit: boolean;
  backendIds: string[];
}

export function gpuPools(gpus: GpuConfig[], backends: BackendConfig[]): Map<string, GpuPool> {
  const pools = new Map<string, GpuPool>(gpus.map((g) => [g.id, { id: g.id, budgetMb: g.budgetMb, implicit: false, backendIds: [] }]));
  const byBackend = new Map<string, GpuPool>();
  for (const backend of backends) {
    const pool = backend.gpuId ? pools.get(backend.gpuId) : implicitPool(backend);
    if (!pool) continue;
    pool.backendIds.push(backend.id);
    byBackend.set(backend.id, pool);
  }
  return byBackend;
}

function implicitPool(backend: BackendConfig): GpuPool | undefined {
  if (!backend.gpu || !backend.vramMb) return undefined;
  return { id: backend.id, budgetMb: backend.vramMb, implicit: true, backendIds: [] };
}
