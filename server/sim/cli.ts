import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { DEMO_MODELS } from './models.js';
import { startSimulator } from './server.js';
import type { SimModelSpec } from './types.js';

const USAGE = `Usage: sim [--flavor ollama|vllm] [--port N] [--host H] [--models models.json] [--sleep-mode] [--api-key KEY] [--max-concurrent N] [--stamp]`;

const ModelSpecs = z.array(
  z.object({
    name: z.string().min(1),
    tokensPerSecond: z.number().positive().optional(),
    ttftMs: z.number().min(0).optional(),
    loadMs: z.number().min(0).optional(),
    sizeMb: z.number().positive().optional(),
    contextLength: z.number().int().positive().optional(),
    capabilities: z.array(z.enum(['completion', 'tools', 'thinking', 'vision', 'router'])).optional(),
    family: z.string().optional(),
    thinkFormat: z.enum(['field', 'tags']).optional(),
    maxTokens: z.number().int().positive().optional(),
  }),
).min(1);

async function loadModels(path: string | undefined): Promise<SimModelSpec[]> {
  if (!path) return DEMO_MODELS;
  const parsed = ModelSpecs.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`${flag} must be a non-negative integer\n${USAGE}`);
  return number;
}

/** Signals that end the process; resolves with the first one received. */
function untilTerminated(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Runs a simulator until SIGINT/SIGTERM, then closes it; resolves once it is closed. */
export async function runSimulatorCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      flavor: { type: 'string', default: 'ollama' },
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      models: { type: 'string' },
      'sleep-mode': { type: 'boolean', default: false },
      'api-key': { type: 'string' },
      'max-concurrent': { type: 'string' },
      stamp: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void console.log(USAGE);
  if (values.flavor !== 'ollama' && values.flavor !== 'vllm') throw new Error(`--flavor must be ollama or vllm\n${USAGE}`);
  const flavor = values.flavor;
  const models = await loadModels(values.models);
  const sim = await startSimulator({
    flavor,
    models,
    port: positiveInt(values.port, '--port') ?? (flavor === 'ollama' ? 11434 : 8000),
    host: values.host,
    sleepMode: values['sleep-mode'],
    apiKey: values['api-key'],
    maxConcurrent: positiveInt(values['max-concurrent'], '--max-concurrent'),
    stampTokens: values.stamp,
  });
  const terminated = untilTerminated();
  console.log(`Simulated ${flavor} listening on ${sim.url}`);
  console.log(`Models: ${models.map((model) => model.name).join(', ')}`);
  const signal = await terminated;
  console.log(`${signal}: shutting down`);
  await sim.close();
}
