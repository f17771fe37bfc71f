import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigSchema } from '../../server/config/schema.js';
import type { ArenaDeployment } from '../../server/models/catalog.js';
import { HealthMonitor } from '../../server/models/health.js';
import { ProviderError } from '../../server/providers/errors.js';

// The health monitor's probe timing on fake timers: probes every intervalMs, and failed requests
// bring the next probe forward but no sooner than 1 s after the last one (EARLY_PROBE_GAP_MS),
// however many fail. The probes themselves are real: a closed port refuses them at once.
// (tests/integration/failover-health.test.ts runs the same logic against killed simulators.)
const INTERVAL_MS = 5_000;
const GAP_MS = 1_000;
const D: ArenaDeployment = { key: 'b/m', backendId: 'b', model: 'm', gpu: false, capabilities: ['completion'] };
const serverError = { ok: false, phase: 'stream', error: new ProviderError('server_error', '500') } as const;

describe('health probe timing', () => {
  let monitor: HealthMonitor;
  let probes: number;

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const config = ConfigSchema.parse({
      backends: [{ id: 'b', kind: 'ollama', url: 'http://127.0.0.1:1' }],
      health: { intervalMs: INTERVAL_MS },
    });
    monitor = new HealthMonitor({ backends: config.backends, deployments: () => [D], options: config.health });
    probes = 0;
    monitor.on('probe', () => probes++);
    await monitor.start();
    expect(probes).toBe(1);
  });
  afterEach(() => {
    monitor.stop();
    vi.useRealTimers();
  });

  /** Moves the clock, then waits (real event-loop turns) for the probes it started to answer. */
  async function advance(ms: number) {
    await vi.advanceTimersByTimeAsync(ms);
    // setImmediate is not faked: these turns let a refused connection be reported.
    for (let i = 0; i < 200 && probing(); i++) await new Promise((resolve) => setImmediate(resolve));
    expect(probing()).toBe(false);
  }
  const probing = () => (monitor as unknown as { backends: Map<string, { probing?: Promise<void> }> }).backends.get('b')!.probing !== undefined;

  it('probes every intervalMs while nothing fails', async () => {
    await advance(INTERVAL_MS - 1);
    expect(probes).toBe(1);
    await advance(1);
    expect(probes).toBe(2);
    await advance(INTERVAL_MS);
    expect(probes).toBe(3);
  });

  it('failed requests bring the next probe forward, once per second at most', async () => {
    for (let i = 0; i < 10; i++) monitor.recordOutcome(D.key, serverError);
    await advance(GAP_MS - 1);
    expect(probes).toBe(1);
    await advance(1);
    expect(probes).toBe(2);
    // More failures right after that probe: the next one waits for the gap again, not the interval.
    for (let i = 0; i < 10; i++) monitor.recordOutcome(D.key, serverError);
    await advance(GAP_MS - 1);
    expect(probes).toBe(2);
    await advance(1);
    expect(probes).toBe(3);
    // Then, without failures, back to the interval.
    await advance(INTERVAL_MS - 1);
    expect(probes).toBe(3);
    await advance(1);
    expect(probes).toBe(4);
  });
});
