import { io as connect } from 'socket.io-client';
import { newSessionToken } from '../../src/lib/server/session.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimModelSpec, Simulator } from '../../server/sim/index.js';
import { startSimulator } from '../../server/sim/index.js';
import type { StatusSnapshot } from '../../src/lib/shared/status.js';
import { ok, recordFrames, startTestArena, waitFor, type ArenaClient, type TestArena } from '../helpers/arena.js';
import { mulberry32 } from '../../server/random.js';

/**
 * An observer of every public channel cannot name a live battle's models. The backends change
 * state with every battle: an Ollama GPU whose memory holds two of its four models (the swap
 * manager loads on demand and evicts), and a vLLM engine in sleep mode that is put back to sleep
 * after each battle that woke it. The observer subscribes to status and leaderboard pushes and
 * polls /api/status, /api/models and /metrics (no token) while each battle streams; from what
 * changed against the moment before the battle it guesses the pair. Chance is 1 in C(5,2) = 10.
 */

const OLLAMA_MODELS: SimModelSpec[] = ['aurora', 'borealis', 'cinder', 'dune'].map((family, i) => ({
  name: `mdl-${family}:${i + 1}b`,
  family,
  tokensPerSecond: 500,
  ttftMs: 5,
  loadMs: 40,
  sizeMb: 4_000,
  maxTokens: 16,
}));
const VLLM_MODEL: SimModelSpec = { name: 'org/Ember-7B', family: 'ember', tokensPerSecond: 500, ttftMs: 5, maxTokens: 16 };
const BATTLES = 36;
const ADMIN = 'observer-test-admin-token-01';
const PAIRS = 10;

interface ModelNames {
  id: string;
  names: string[];
}

const MODELS: ModelNames[] = [
  ...OLLAMA_MODELS.map((m) => ({ id: m.family!, names: [m.family!, m.name] })),
  { id: 'ember', names: ['ember', VLLM_MODEL.name] },
];

describe('blindness: a watcher of every public channel cannot name a live battle’s models', () => {
  let ollama: Simulator;
  let vllm: Simulator;
  let t: TestArena;

  beforeAll(async () => {
    [ollama, vllm] = await Promise.all([
      startSimulator({ flavor: 'ollama', models: OLLAMA_MODELS, preloaded: false }),
      startSimulator({ flavor: 'vllm', models: [VLLM_MODEL], sleepMode: true }),
    ]);
    t = await startTestArena({
      sim: ollama,
      config: {
        backends: [
          { id: 'gpu-ollama', kind: 'ollama', url: ollama.url, gpu: true, vramMb: 8_000 },
          { id: 'gpu-vllm', kind: 'vllm', url: vllm.url, gpu: true, vramMb: 8_000 },
        ],
        models: [
          ...OLLAMA_MODELS.map((m) => ({ id: m.family!, deployments: [{ backend: 'gpu-ollama', model: m.name, sizeMb: 4_000 }] })),
          { id: 'ember', deployments: [{ backend: 'gpu-vllm', model: VLLM_MODEL.name }] },
        ],
        // Probes every 50 ms; a generous probe deadline so a loaded machine does not flip "reachable" mid-battle.
        health: { intervalMs: 50, timeoutMs: 2_000 },
        arena: { pairing: 'uniform' },
        limits: { battlesPerMinute: 1_000, votesPerMinute: 1_000 },
        adminToken: ADMIN,
      },
      arena: { leaderboardDebounceMs: 5 },
    });
    await sleepEngine();
  });
  afterAll(async () => {
    await t.close();
    await vllm.close();
  });

  const adminStatus = async () =>
    (await (await fetch(`${t.url}/api/admin/status`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as StatusSnapshot;

  async function sleepEngine(): Promise<void> {
    await fetch(`${vllm.url}/sleep?level=1`, { method: 'POST' });
    // The arena learns it from its probe; until then it could send a chat to a sleeping engine.
    const deadline = Date.now() + 5_000;
    while ((await adminStatus()).backends.find((b) => b.id === 'gpu-vllm')?.sleeping !== true) {
      if (Date.now() > deadline) throw new Error('the arena never saw the engine asleep');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('guesses the pair no better than chance, and sees no public change while a battle runs', async () => {
    const observer = await publicObserver(t.url);
    const owner = await t.client();
    const rec = recordFrames(owner);
    const rng = mulberry32(16);
    let correct = 0;
    let changedLines = 0;
    let pushesDuringBattles = 0;
    const sawResidency = { loads: 0, wakes: 0 };
    ollama.events.on('load', () => sawResidency.loads++);

    for (let i = 0; i < BATTLES; i++) {
      const baseline = await observer.poll();
      observer.startWindow();
      const { battle } = await ok(owner, 'battle:start', { prompt: `Question ${i}: why do leaves change colour?` });
      const polling = observer.pollUntil(() => rec.events(battle.id).filter((e) => e.t === 'end').length >= 2);
      await rec.settled(battle.id);
      const seen = await polling;
      const pushes = observer.endWindow();
      pushesDuringBattles += pushes.length;

      const fresh = [...seen.flatMap((s) => newLines(baseline, s)), ...pushes.flatMap((p) => flatten(p))];
      changedLines += seen.reduce((n, s) => n + newLines(baseline, s).length, 0);
      const guess = guessPair(fresh, rng);

      const { reveal } = await ok(owner, 'battle:vote', { battleId: battle.id, choice: i % 2 ? 'left' : 'right' });
      const truth = [reveal.left.model, reveal.right.model].sort();
      if (guess.join() === truth.join()) correct++;
      await observer.leaderboardSettled();
      if (truth.includes('ember')) {
        sawResidency.wakes++;
        await sleepEngine();
      }
    }
    observer.close();

    // The setup really moved: models loaded on demand and the engine woke for its battles.
    expect(sawResidency.loads).toBeGreaterThan(4);
    expect(sawResidency.wakes).toBeGreaterThan(2);
    // The statistic: under "no information", correct guesses ~ Binomial(BATTLES, 1/10).
    const critical = binomialCritical(BATTLES, 1 / PAIRS, 0.001);
    console.log(`blind observer: ${correct}/${BATTLES} pairs named (chance ${BATTLES / PAIRS}; P(≥${critical}) < 0.001 by chance)`);
    // Nothing public changed while a battle ran (the vote's leaderboard push comes after the window).
    expect({ changedLines, pushesDuringBattles }).toEqual({ changedLines: 0, pushesDuringBattles: 0 });
    expect(correct).toBeLessThan(critical);
  });
});

/** What anyone can watch without a token or a battle link. */
async function publicObserver(url: string) {
  const socket: ArenaClient = connect(url, { transports: ['websocket'], reconnection: false, auth: { session: newSessionToken() } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const pushes: Array<{ event: string; args: unknown[] }> = [];
  let leaderboardPushes = 0;
  socket.onAny((event: string, ...args: unknown[]) => {
    pushes.push({ event, args });
    if (event === 'leaderboard:update') leaderboardPushes++;
  });
  await (socket as any).emitWithAck('status:subscribe', {});
  await (socket as any).emitWithAck('leaderboard:subscribe', { excludeTies: false });
  let windowStart = 0;
  let votes = 0;

  const poll = async (): Promise<Record<string, unknown>> => {
    const get = async (path: string) => {
      const res = await fetch(`${url}${path}`);
      const text = await res.text();
      try {
        return { status: res.status, body: JSON.parse(text) as unknown };
      } catch {
        return { status: res.status, body: text };
      }
    };
    const [status, models, metrics] = await Promise.all([get('/api/status'), get('/api/models'), get('/metrics')]);
    return { status, models, metrics };
  };

  return {
    poll,
    async pollUntil(done: () => boolean): Promise<Array<Record<string, unknown>>> {
      const seen: Array<Record<string, unknown>> = [];
      do seen.push(await poll());
      while (!done());
      seen.push(await poll());
      return seen;
    },
    startWindow() {
      windowStart = pushes.length;
    },
    endWindow(): unknown[] {
      return pushes.slice(windowStart).map((p) => ({ [p.event]: p.args }));
    },
    async leaderboardSettled() {
      votes++;
      await waitFor(() => leaderboardPushes >= votes, 5_000, 'the leaderboard push after the vote');
    },
    close: () => socket.close(),
  };
}

/** JSON as `path=value` lines; array items keyed by their id or key so lines name what they describe. */
function flatten(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [`${path}=${String(value)}`];
  const entries = Array.isArray(value)
    ? value.map((item, i) => [String((item as { key?: string; id?: string })?.key ?? (item as { id?: string })?.id ?? i), item] as const)
    : Object.entries(value).filter(([k]) => k !== 'generatedAt' && k !== 'checkedAt');
  return entries.flatMap(([k, v]) => flatten(v, `${path}.${k}`));
}

function newLines(baseline: unknown, now: unknown): string[] {
  const before = new Set(flatten(baseline));
  return flatten(now).filter((line) => !before.has(line));
}

/** The two models named most often in what changed; ties (and silence) broken at random. */
function guessPair(lines: string[], rng: () => number): string[] {
  const scored = MODELS.map((m) => ({ id: m.id, score: lines.filter((l) => m.names.some((n) => l.includes(n))).length, tie: rng() }));
  scored.sort((a, b) => b.score - a.score || a.tie - b.tie);
  return scored
    .slice(0, 2)
    .map((s) => s.id)
    .sort();
}

/** Smallest k with P(X ≥ k) < alpha for X ~ Binomial(n, p). */
function binomialCritical(n: number, p: number, alpha: number): number {
  const pmf = (k: number) => Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
  let tail = 1;
  for (let k = 0; k <= n; k++) {
    if (tail < alpha) return k;
    tail -= pmf(k);
  }
  return n + 1;
}

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}
