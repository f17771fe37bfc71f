import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRouter, metricsOf, parseEvalArgs, rowsOf } from '../../scripts/router-eval.js';
import { createProvider } from '../../server/providers/index.js';
import { startSimulator, type SimModelSpec, type Simulator } from '../../server/sim/index.js';

const run = promisify(execFile);

/**
 * The LLM routing layer measured through its real plumbing: the simulator's deterministic
 * stand-in ('router' capability: TOOLS when the prompt has a digit) on both protocols. The
 * figures must be exactly the stand-in's rule applied to each prompt, nothing lost on the way.
 */
const JUDGE: SimModelSpec = { name: 'judge:1b', capabilities: ['completion', 'router'], tokensPerSecond: 2_000, ttftMs: 1, loadMs: 1 };
const TIMEOUTS = { connectMs: 5_000, firstTokenMs: 5_000, idleMs: 5_000 };
const rows = rowsOf('validation').filter((_, i) => i % 8 === 0);
const standIn = (prompt: string) => (/\p{Nd}/u.test(prompt) ? 'tools' : 'arena');

describe.each(['ollama', 'vllm'] as const)('router-eval with an LLM layer on the %s simulator', (flavor) => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ flavor, models: [JUDGE], preloaded: true });
  });
  afterAll(() => sim.close());

  it('scores the LLM alone and the cascade ending with it, every answer counted', async () => {
    const provider = createProvider({ id: 'judge', kind: flavor, url: sim.url, gpu: false, demo: false }, { timeouts: TIMEOUTS });
    const reports = await evaluateRouter(rows, { provider, model: JUDGE.name, timeoutMs: 5_000 });
    expect(reports.map((r) => r.name)).toEqual(['rules', 'classifier', 'cascade (rules → classifier)', 'LLM judge:1b alone', 'cascade (rules → classifier → LLM judge:1b)']);
    const alone = reports[3]!;
    expect(alone.abstentions).toBe(0);
    expect(alone.scored.map((s) => s.predicted)).toEqual(rows.map((row) => standIn(row.prompt)));
    expect(alone.metrics).toEqual(metricsOf(rows.map((row) => ({ row, predicted: standIn(row.prompt), abstained: false }))));
    expect(alone.metrics.prompts).toBe(rows.length);
    // The LLM is asked only where the classifier is unsure; elsewhere the cascade is unchanged.
    const [, , plain, , withLlm] = reports;
    const differing = withLlm!.scored.filter((s, i) => s.predicted !== plain!.scored[i]!.predicted);
    for (const s of differing) expect(s.predicted).toBe(standIn(s.row.prompt));
  });

  it('abstains on every prompt when the model hangs past the timeout, and says so', async () => {
    sim.setFault({ kind: 'hang' });
    try {
      const provider = createProvider({ id: 'judge', kind: flavor, url: sim.url, gpu: false, demo: false }, { timeouts: TIMEOUTS });
      const few = rows.slice(0, 3);
      const reports = await evaluateRouter(few, { provider, model: JUDGE.name, timeoutMs: 150 });
      expect(reports[3]!.abstentions).toBe(few.length);
      expect(reports[3]!.metrics.toolsRecall === 0 || Number.isNaN(reports[3]!.metrics.toolsRecall)).toBe(true);
    } finally {
      sim.setFault({ kind: 'none' });
    }
  });
});

describe('scripts/router-eval.ts pointed at an operator model', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ flavor: 'vllm', models: [JUDGE], preloaded: true });
  });
  afterAll(() => sim.close());

  it('takes --llm-* flags and prints the LLM rows', async () => {
    const { stdout } = await run('npx', ['tsx', 'scripts/router-eval.ts', '--split', 'validation', '--limit', '10', '--llm-url', sim.url, '--llm-model', JUDGE.name, '--llm-flavor', 'vllm', '--llm-timeout-ms', '3000']);
    expect(stdout).toContain('Split: validation, 10 prompts.');
    expect(stdout).toMatch(/^\| LLM judge:1b alone \| 10 \| \d+\.\d% \| .* \| 0 \|$/m);
    expect(stdout).toMatch(/^\| cascade \(rules → classifier → LLM judge:1b\) \| 10 \|/m);
    expect(stdout).toContain('Per language (cascade (rules → classifier → LLM judge:1b)):');
  }, 30_000);

  it('refuses an incomplete or wrong flag with a clear message', () => {
    expect(() => parseEvalArgs(['--llm-url', sim.url])).toThrow('--llm-url needs --llm-model');
    expect(() => parseEvalArgs(['--split', 'dev'])).toThrow('--split must be train, validation, test or all, got "dev"');
    expect(() => parseEvalArgs(['--llm-url', sim.url, '--llm-model', 'm', '--llm-flavor', 'gpt'])).toThrow('--llm-flavor must be ollama, vllm or openai');
    expect(() => parseEvalArgs(['--llm-url', sim.url, '--llm-model', 'm', '--llm-timeout-ms', 'soon'])).toThrow('--llm-timeout-ms must be a positive number');
    expect(parseEvalArgs([])).toEqual({ split: 'test', limit: Infinity, mistakes: false });
  });
});
