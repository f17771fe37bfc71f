import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../server/config/schema.js';
import type { ArenaDeployment, ArenaModel } from '../../server/models/catalog.js';
import { HealthMonitor, routeByHealth } from '../../server/models/health.js';
import { parseRequestsWaiting } from '../../server/models/probe.js';
import { deploymentState } from '../../server/models/status.js';
import { ProviderError } from '../../server/providers/errors.js';

const deployment = (backendId: string, gpu: boolean): ArenaDeployment => ({ key: `${backendId}/m`, backendId, model: 'm', gpu, capabilities: ['completion'] });
const GPU = deployment('gpu', true);
const CPU = deployment('cpu', false);
const MODEL: ArenaModel = { id: 'm', label: 'm', deployments: [GPU, CPU], capabilities: ['completion'] };

/** A monitor that is never started: no probes, only the outcomes the test feeds it. */
function monitor() {
  const config = ConfigSchema.parse({
    backends: [
      { id: 'gpu', kind: 'vllm', url: 'http://gpu.invalid:8000', gpu: true },
      { id: 'cpu', kind: 'ollama', url: 'http://cpu.invalid:11434' },
    ],
  });
  const deployments = [GPU, CPU];
  return new HealthMonitor({ backends: config.backends, deployments: () => deployments, options: config.health });
}

const failure = (code: ProviderError['code'], phase: 'prepare' | 'stream' = 'stream') =>
  ({ ok: false, phase, error: new ProviderError(code, code) }) as const;

describe('routing by health', () => {
  it('keeps the preference order while every deployment is healthy', () => {
    expect(routeByHealth(monitor())(MODEL)).toEqual([GPU, CPU]);
  });

  it('leaves out a deployment whose connection was refused, at once, and says so', () => {
    const health = monitor();
    const changes: unknown[] = [];
    health.on('change', (c) => changes.push(c));
    health.recordOutcome(GPU.key, failure('connection_refused'));
    expect(routeByHealth(health)(MODEL)).toEqual([CPU]);
    expect(changes).toEqual([{ deployment: GPU.key, before: 'healthy', after: 'down', reason: 'connection_refused' }]);
  });

  it('needs openAfter soft failures (timeouts, resets) before leaving a deployment out', () => {
    const health = monitor();
    health.recordOutcome(GPU.key, failure('idle_timeout'));
    health.recordOutcome(GPU.key, failure('connection_reset'));
    expect(routeByHealth(health)(MODEL)).toEqual([GPU, CPU]);
    health.recordOutcome(GPU.key, failure('server_error'));
    expect(routeByHealth(health)(MODEL)).toEqual([CPU]);
  });

  it('ignores what is not the backend’s fault: a cancel, a bad request, a load that found no room', () => {
    const health = monitor();
    for (let i = 0; i < 5; i++) {
      health.recordOutcome(GPU.key, failure('aborted'));
      health.recordOutcome(GPU.key, failure('bad_request'));
      health.recordOutcome(GPU.key, failure('busy', 'prepare'));
    }
    expect(health.deployment(GPU.key).health).toBe('healthy');
  });

  it('a model with every deployment down has no route', () => {
    const health = monitor();
    health.recordOutcome(GPU.key, failure('busy'));
    health.recordOutcome(CPU.key, failure('connection_refused'));
    expect(routeByHealth(health)(MODEL)).toEqual([]);
  });
});

describe('deployment state', () => {
  it('is down whatever the residency; otherwise loading and sleeping show through', () => {
    expect(deploymentState('down', 'loading')).toBe('down');
    expect(deploymentState('healthy', 'loading')).toBe('loading');
    expect(deploymentState('degraded', 'sleeping')).toBe('sleeping');
    expect(deploymentState('degraded', 'loaded')).toBe('degraded');
    expect(deploymentState('healthy', 'not-loaded')).toBe('healthy');
  });
});

describe('vLLM /metrics', () => {
  it('reads requests waiting per model from the Prometheus text', () => {
    const text = [
      '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
      '# TYPE vllm:num_requests_waiting gauge',
      'vllm:num_requests_waiting{engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct"} 7.0',
      'vllm:num_requests_waiting{model_name="qwen"} 2',
      'vllm:num_requests_running{model_name="qwen"} 5',
    ].join('\n');
    expect(parseRequestsWaiting(text)).toEqual({ 'meta-llama/Llama-3.1-8B-Instruct': 7, qwen: 2 });
  });
});
