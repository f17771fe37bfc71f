import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../server/config/schema.js';
import { parseMemorySize } from '../../server/config/memory-size.js';
import { gpuPools } from '../../server/models/gpu-pools.js';

const url = 'http://127.0.0.1:8000';
const issues = (raw: unknown) => {
  const result = ConfigSchema.safeParse(raw);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('memory sizes', () => {
  it('reads decimal and binary units, and bare bytes', () => {
    expect(parseMemorySize('10GB')).toBe(10e9);
    expect(parseMemorySize('24 GiB')).toBe(24 * 2 ** 30);
    expect(parseMemorySize('4800MB')).toBe(4.8e9);
    expect(parseMemorySize('9.5gb')).toBe(9.5e9);
    expect(parseMemorySize('1024')).toBe(1024);
  });

  it('rejects what is not a size', () => {
    for (const bad of ['', 'ten GB', '10 GiBs', '-1GB', '0GB', '10 G B']) expect(parseMemorySize(bad)).toBeUndefined();
  });
});

describe('gpus[] configuration', () => {
  it('gives each GPU a budget in MiB, and backends name their GPU', () => {
    const config = ConfigSchema.parse({
      gpus: [{ id: 'gpu0', memory: '10GB' }, { id: 'gpu1', memoryBytes: 2 ** 34 }],
      backends: [
        { id: 'ollama', kind: 'ollama', url, gpu: 'gpu0' },
        { id: 'qwen', kind: 'vllm', url, gpu: 'gpu0' },
        { id: 'big', kind: 'vllm', url, gpu: 'gpu1' },
        { id: 'cpu', kind: 'ollama', url },
      ],
    });
    expect(config.gpus).toEqual([{ id: 'gpu0', budgetMb: 9536 }, { id: 'gpu1', budgetMb: 16384 }]);
    expect(config.backends.map((b) => [b.id, b.gpu, b.gpuId])).toEqual([
      ['ollama', true, 'gpu0'],
      ['qwen', true, 'gpu0'],
      ['big', true, 'gpu1'],
      ['cpu', false, undefined],
    ]);
    const pools = gpuPools(config.gpus, config.backends);
    expect(pools.get('ollama')).toBe(pools.get('qwen'));
    expect(pools.get('qwen')).toMatchObject({ id: 'gpu0', budgetMb: 9536, backendIds: ['ollama', 'qwen'] });
    expect(pools.get('big')).toMatchObject({ id: 'gpu1', backendIds: ['big'] });
    expect(pools.has('cpu')).toBe(false);
  });

  it('keeps the older form working: a GPU backend with its own vramMb is its own GPU', () => {
    const config = ConfigSchema.parse({
      backends: [
        { id: 'a', kind: 'vllm', url, gpu: true, vramMb: 24000 },
        { id: 'b', kind: 'vllm', url, gpu: true, vramMb: 16000 },
        { id: 'c', kind: 'vllm', url, gpu: true },
      ],
    });
    const pools = gpuPools(config.gpus, config.backends);
    expect(pools.get('a')).toMatchObject({ id: 'a', budgetMb: 24000, implicit: true, backendIds: ['a'] });
    expect(pools.get('b')).toMatchObject({ id: 'b', budgetMb: 16000, backendIds: ['b'] });
    expect(pools.has('c')).toBe(false);
  });

  it('names the key of every mistake', () => {
    expect(issues({ gpus: [{ id: 'g', memory: 'lots' }] })).toEqual(['gpus.0.memory: not a memory size: "lots" (e.g. "10GB", "24GiB")']);
    expect(issues({ gpus: [{ id: 'g' }] })).toEqual(['gpus.0.memory: give exactly one of memory ("10GB") or memoryBytes']);
    expect(issues({ gpus: [{ id: 'g', memory: '1GB', memoryBytes: 1 }] })).toEqual(['gpus.0.memory: give exactly one of memory ("10GB") or memoryBytes']);
    expect(issues({ gpus: [{ id: 'g', memory: '1GB' }, { id: 'g', memory: '2GB' }] })).toEqual(['gpus.1.id: duplicate GPU id "g"']);
    expect(issues({ backends: [{ id: 'x', kind: 'vllm', url, gpu: 'nope' }] })).toEqual(['backends.0.gpu: unknown GPU "nope" (declared: none)']);
    expect(issues({ gpus: [{ id: 'g', memory: '1GB' }], backends: [{ id: 'x', kind: 'vllm', url, gpu: 'g', vramMb: 100 }] })).toEqual([
      'backends.0.vramMb: the budget of GPU "g" is its memory; drop vramMb',
    ]);
  });
});
