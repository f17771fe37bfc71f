/**
 * Socket.IO's default parser (JSON text frames) against socket.io-msgpack-parser (binary
 * MessagePack frames) on Arena's own frames: encode CPU on the server (once per broadcast),
 * bytes on the wire (the WebSocket payload), decode CPU in Node and in Chromium (the browser
 * decodes every frame it receives). Decision record for #23; nothing here runs in production.
 *
 * `npm run bench` runs it as its parser section (`--parser` alone); `npx tsx bench/parser.ts
 * [--iterations 20000]` prints it by itself.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { Decoder as JsonDecoder, Encoder as JsonEncoder, PacketType } from 'socket.io-parser';
import { simulatedAnswer } from '../server/sim/index.js';
import { launchBrowser } from '../tests/helpers/browser.js';

const require = createRequire(import.meta.url);
const msgpack = require('socket.io-msgpack-parser') as { Encoder: new () => { encode(p: unknown): unknown[] }; Decoder: new () => { add(d: unknown): void; on(e: string, f: (p: unknown) => void): void } };

const tokens = simulatedAnswer({ name: 'mdl-aurora:1b', tokensPerSecond: 30, ttftMs: 0, loadMs: 0, maxTokens: 60 }, [{ role: 'user', content: 'Explain tides in a short paragraph.' }]).tokens;
const battleId = 'Qm9vZ2xlLWJhdHRsZS1pZDEy';
const frame = (events: object[]) => ({ type: PacketType.EVENT, nsp: '/', data: ['battle:events', { battleId, events }] });
const delta = (text: string, seq: number) => ({ t: 'delta', side: 'left', turn: 0, text, seq });

const FRAMES: [string, object][] = [
  ['one token (idle server)', frame([delta(tokens[3]!, 7)])],
  ['8 tokens coalesced (busy server)', frame([delta(tokens.slice(0, 8).join(''), 7)])],
  ['both sides, 4 tokens each', frame([delta(tokens.slice(0, 4).join(''), 7), { ...delta(tokens.slice(4, 8).join(''), 8), side: 'right' }])],
  ['end of an answer', frame([{ t: 'end', side: 'right', turn: 0, status: 'done', seq: 60 }])],
];

function timeEach(fn: () => void, N: number): number {
  for (let i = 0; i < Math.min(2_000, N); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e3 / N;
}

const bytes = (encoded: unknown[]) => encoded.reduce<number>((n, p) => n + (typeof p === 'string' ? Buffer.byteLength(p) + 1 : (p as Uint8Array).byteLength), 0);

/** The comparison as a markdown table (with a line naming the parsers and the iterations). */
export async function parserComparison(N = 20_000): Promise<string> {
  const time = (fn: () => void) => timeEach(fn, N);
  const json = new JsonEncoder();
  const mp = new msgpack.Encoder();
  const rows: string[][] = [];
  const browserInputs: { json: string; mp: number[] }[] = [];
  for (const [label, packet] of FRAMES) {
    const j = json.encode(packet as never) as unknown[];
    const m = mp.encode(packet);
    const jd = new JsonDecoder();
    jd.on('decoded', () => undefined);
    const md = new msgpack.Decoder();
    md.on('decoded', () => undefined);
    browserInputs.push({ json: j[0] as string, mp: [...(m[0] as Uint8Array)] });
    rows.push([
      label,
      // engine.io adds the "4" message prefix to a text frame; a binary frame goes as it is.
      `${bytes(j)} / ${bytes(m) - 0}`,
      `${time(() => json.encode(packet as never)).toFixed(2)} / ${time(() => mp.encode(packet)).toFixed(2)}`,
      `${time(() => jd.add(j[0] as string)).toFixed(2)} / ${time(() => md.add(m[0])).toFixed(2)}`,
    ]);
  }
  const browser = await decodeInChromium(browserInputs, N);
  rows.forEach((r, i) => r.push(`${browser[i]!.json.toFixed(2)} / ${browser[i]!.mp.toFixed(2)}`));
  return [
    `Node ${process.version}, ${N.toLocaleString('en')} iterations per cell; JSON (socket.io-parser) / MessagePack (socket.io-msgpack-parser)`,
    '',
    '| frame | WebSocket payload (bytes) | encode on the server (µs) | decode in Node (µs) | decode in Chromium (µs) |',
    '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** Chromium's cost to turn a received frame into the event's object: JSON.parse vs notepack's decode. */
async function decodeInChromium(inputs: { json: string; mp: number[] }[], N: number): Promise<{ json: number; mp: number }[]> {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.addScriptTag({ path: require.resolve('notepack.io/dist/notepack.min.js') });
    // A string, not a function: tsx's transform would add helpers the page does not have.
    const script = `(() => {
      const inputs = ${JSON.stringify(inputs)};
      const n = ${N};
      const time = (fn) => {
        for (let i = 0; i < 2000; i++) fn();
        const start = performance.now();
        for (let i = 0; i < n; i++) fn();
        return ((performance.now() - start) * 1000) / n;
      };
      // socket.io-parser reads the packet type digit, then JSON.parse on the rest.
      return inputs.map(({ json, mp }) => {
        const buffer = new Uint8Array(mp).buffer;
        return { json: time(() => JSON.parse(json.slice(1))), mp: time(() => self.notepack.decode(buffer)) };
      });
    })()`;
    return (await page.evaluate(script)) as { json: number; mp: number }[];
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' } } });
  parserComparison(Number(values.iterations)).then(console.log, (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
