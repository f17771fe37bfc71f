/**
 * The model side of the token path alone, in CPU time: C concurrent answers streamed from the
 * simulator (its own process) through Arena's provider pipeline (Ollama provider → stream
 * guard → failover, as `TurnRunner.runSide` consumes it), through the baseline's bare loop
 * (fetch, getReader, split lines, JSON.parse, as bench/baseline-server.ts), or through the same
 * bare loop over node:http (what the Ollama provider reads with since #23). Prints this process's
 * CPU µs per upstream token for each, in turn: a figure that hardly depends on what else runs on
 * the machine, unlike latency. No sockets, store or clients.
 *
 *   npx tsx bench/token-path.ts [--streams 60] [--tps 60] [--seconds 6] [--rounds 3]
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { createLogger } from '../server/infra/log.js';
import { streamWithFailover } from '../server/models/failover.js';
import { createOllamaProvider } from '../server/providers/ollama.js';
import { runBench, startSim } from './relay/procs.js';
import { MODEL_NAMES, models, pickPrompts, type RelaySettings } from './relay/scenarios.js';

const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '60' },
    tps: { type: 'string', default: '60' },
    seconds: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
  },
});
const streams = Number(values.streams);
const seconds = Number(values.seconds);
const settings = { tokensPerSecond: Number(values.tps), ttftMs: 20 } as RelaySettings;
const logger = createLogger('warn');
const timeouts = { connectMs: 10_000, firstTokenMs: 10_000, idleMs: 10_000 };

type Path = (simUrl: string, model: string, prompt: string) => Promise<number>;

/** Arena: provider + guard + failover; counts upstream chunks (a part may hold several). */
const arena: Path = async (simUrl, model, prompt) => {
  const provider = createOllamaProvider({ baseUrl: simUrl, timeouts });
  const parts = streamWithFailover([{ deployment: `sim/${model}`, model, provider }], { messages: [{ role: 'user', content: prompt }] }, logger);
  let tokens = 0;
  for await (const part of parts) if (part.type === 'text' || part.type === 'reasoning') tokens += part.tokens ?? 1;
  return tokens;
};

/** Both bare loops: the complete lines of what was buffered, tokens counted; returns what is left. */
function countLines(buffered: string, count: () => void): string {
  let nl: number;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (!line) continue;
    const chunk = JSON.parse(line) as { message?: { content?: string } };
    if (chunk.message?.content) count();
  }
  return buffered;
}

const chatBody = (model: string, prompt: string) => JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], stream: true });

/** The baseline server's loop (bench/baseline-server.ts `stream`). */
const bare: Path = async (simUrl, model, prompt) => {
  const res = await fetch(`${simUrl}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody(model, prompt) });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let tokens = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered = countLines(buffered + decoder.decode(value, { stream: true }), () => tokens++);
  }
  return tokens;
};

const agent = new Agent({ keepAlive: true });

/** The same bare loop over node:http with a keep-alive agent (server/providers/http-stream.ts's transport). */
const bareHttp: Path = (simUrl, model, prompt) =>
  new Promise((resolve, reject) => {
    const req = request(`${simUrl}/api/chat`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      let buffered = '';
      let tokens = 0;
      res.on('data', (text: string) => (buffered = countLines(buffered + text, () => tokens++)));
      res.on('end', () => resolve(tokens));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(chatBody(model, prompt));
  });

async function measure(path: Path, simUrl: string, prompts: string[]): Promise<{ usPerToken: number; tokens: number }> {
  let tokens = 0;
  let counting = false;
  let stop = false;
  const lane = async (i: number) => {
    for (let n = 0; !stop; n++) {
      const got = await path(simUrl, MODEL_NAMES[(i + n) % MODEL_NAMES.length]!, prompts[(i + n) % prompts.length]!);
      if (counting) tokens += got;
    }
  };
  const lanes = Array.from({ length: streams }, (_, i) => lane(i));
  await new Promise((r) => setTimeout(r, 1500)); // warm-up
  counting = true;
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  counting = false;
  stop = true;
  await Promise.all(lanes);
  // Answers that ended inside the window are counted whole: many lanes make that even out.
  return { usPerToken: (cpu.user + cpu.system) / tokens, tokens };
}

async function main(): Promise<void> {
  const sim = await startSim(models(settings));
  const { prompts } = pickPrompts(models(settings));
  console.log(`${streams} concurrent answers at ${settings.tokensPerSecond} tokens/s each, ${seconds} s windows; CPU µs per upstream token in this process`);
  console.log('| round | Arena provider path | bare fetch loop (baseline) | bare node:http loop | Arena / baseline |\n|---:|---:|---:|---:|---:|');
  // Round 0 warms both paths up (JIT): printed, not to be compared.
  for (let round = 0; round <= Number(values.rounds); round++) {
    const a = await measure(arena, sim.url, prompts);
    const b = await measure(bare, sim.url, prompts);
    const h = await measure(bareHttp, sim.url, prompts);
    console.log(
      `| ${round || 'warm-up'} | ${a.usPerToken.toFixed(2)} (${a.tokens} tokens) | ${b.usPerToken.toFixed(2)} (${b.tokens}) | ${h.usPerToken.toFixed(2)} (${h.tokens}) | ${(a.usPerToken / b.usPerToken).toFixed(2)}× |`,
    );
  }
  await sim.stop();
}

runBench(main);
