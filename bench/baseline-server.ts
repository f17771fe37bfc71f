/**
 * The relay benchmark's baseline: the least a Socket.IO server can do to relay a duel. For each
 * duel a client starts it opens the same simulator streams Arena would (Ollama NDJSON /api/chat,
 * two models) and emits every token straight to the duel's room as it arrives: no coalescing, no
 * store, no event log, no leak detection, no metrics. It speaks just enough of Arena's protocol
 * (battle:start / battle:next / battle:send / watch:join, `battle:events` frames with `delta` and
 * `end` events) for the same benchmark clients to drive it.
 *
 *   node --import tsx bench/baseline-server.ts --sim http://127.0.0.1:PORT --models a,b [--port N]
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Server, type Socket } from 'socket.io';

const { values } = parseArgs({
  options: {
    sim: { type: 'string' },
    models: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
if (!values.sim || !values.models) throw new Error('usage: baseline-server --sim URL --models a,b[,c…] [--port N]');
const simChat = `${values.sim}/api/chat`;
const models = values.models.split(',').filter(Boolean);
if (models.length < 2) throw new Error('--models needs at least two names');

type Side = 'left' | 'right';
interface Duel {
  id: string;
  token: string;
  owner: string;
  prompt: string;
  models: Record<Side, string>;
  turns: number;
  seq: number;
  /** Sides still streaming. */
  streaming: number;
}

const duels = new Map<string, Duel>();
const id = () => randomBytes(12).toString('base64url');
const room = (duelId: string) => `battle:${duelId}`;

const httpServer = createServer((_req, res) => res.writeHead(404).end());
// The same engine settings as Arena (server/realtime/socket.ts).
const io = new Server(httpServer, {
  transports: ['websocket'],
  serveClient: false,
  maxHttpBufferSize: 256 * 1024,
  perMessageDeflate: false,
  pingInterval: 25_000,
  pingTimeout: 20_000,
});

type Ack = (res: unknown) => void;

io.on('connection', (socket) => {
  socket.on('battle:start', (p: { prompt: string }, ack: Ack) => open(socket, p.prompt, ack));
  socket.on('battle:next', (p: { battleId: string }, ack: Ack) => {
    const previous = duels.get(p.battleId);
    if (!previous) return ack({ ok: false, error: { code: 'not_found', message: 'no such duel' } });
    // Late spectators can still join a finished duel for a minute (Arena keeps battles longer).
    setTimeout(() => duels.delete(p.battleId), 60_000).unref();
    open(socket, previous.prompt, ack);
  });
  socket.on('battle:send', (p: { battleId: string; prompt: string }, ack: Ack) => {
    const duel = duels.get(p.battleId);
    if (!duel || duel.owner !== socket.id) return ack({ ok: false, error: { code: 'not_found', message: 'no such duel' } });
    if (duel.streaming > 0) return ack({ ok: false, error: { code: 'conflict', message: 'still streaming' } });
    duel.prompt = p.prompt;
    turn(duel);
    ack({ ok: true });
  });
  socket.on('watch:join', (p: { battleId: string; token: string }, ack: Ack) => {
    const duel = duels.get(p.battleId);
    if (!duel || duel.token !== p.token) return ack({ ok: false, error: { code: 'not_found', message: 'no such duel' } });
    void socket.join(room(duel.id));
    ack({ ok: true, battle: { id: duel.id, seq: duel.seq }, viewers: 0, crowd: {} });
  });
  socket.on('disconnect', () => {
    for (const [key, duel] of duels) if (duel.owner === socket.id && duel.streaming === 0) duels.delete(key);
  });
});

function open(socket: Socket, prompt: string, ack: Ack): void {
  const i = Math.floor(Math.random() * models.length);
  const j = (i + 1 + Math.floor(Math.random() * (models.length - 1))) % models.length;
  const duel: Duel = { id: id(), token: id(), owner: socket.id, prompt, models: { left: models[i]!, right: models[j]! }, turns: 0, seq: 0, streaming: 0 };
  duels.set(duel.id, duel);
  void socket.join(room(duel.id));
  turn(duel);
  ack({ ok: true, battle: { id: duel.id, seq: 0, sharePath: `/watch/${duel.id}?t=${duel.token}` } });
}

function turn(duel: Duel): void {
  const index = duel.turns++;
  for (const side of ['left', 'right'] as const) void stream(duel, side, index);
}

function emit(duel: Duel, event: Record<string, unknown>): void {
  io.to(room(duel.id)).emit('battle:events', { battleId: duel.id, events: [{ ...event, seq: ++duel.seq }] });
}

async function stream(duel: Duel, side: Side, turn: number): Promise<void> {
  duel.streaming++;
  let status: 'done' | 'error' = 'error';
  try {
    const res = await fetch(simChat, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: duel.models[side], messages: [{ role: 'user', content: duel.prompt }], stream: true }),
    });
    if (!res.ok || !res.body) throw new Error(`sim answered ${res.status}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        const chunk = JSON.parse(line) as { message?: { content?: string }; done?: boolean };
        if (chunk.message?.content) emit(duel, { t: 'delta', side, turn, text: chunk.message.content });
        if (chunk.done) status = 'done';
      }
    }
  } catch (err) {
    console.error(`stream failed: ${(err as Error).message}`);
  } finally {
    duel.streaming--;
    emit(duel, { t: 'end', side, turn, status });
  }
}

httpServer.listen(Number(values.port), values.host, () => {
  const { port } = httpServer.address() as AddressInfo;
  console.log(`baseline listening on http://${values.host}:${port}`);
});

const stop = () => io.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
