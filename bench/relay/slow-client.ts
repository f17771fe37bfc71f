/**
 * A spectator that stops reading: a hand-rolled WebSocket + Engine.IO v4 + Socket.IO v5 client on
 * a raw TCP socket. It connects, joins battles, then pauses its socket — the kernel's receive
 * buffer fills, the server's send queue grows. With `keepAlive` it still writes an Engine.IO pong
 * every 10 s without reading anything, so the server's heartbeat never closes it (the worst case:
 * only a per-client buffer bound can stop the growth).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export class SlowClient {
  private ackId = 0;
  private buffer = Buffer.alloc(0);
  private handshaken = false;
  private readonly waiters: Array<{ match: (text: string) => boolean; resolve: (text: string) => void }> = [];
  private keepAliveTimer: NodeJS.Timeout | null = null;
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  static async connect(url: string, session: string, timeoutMs = 15_000): Promise<SlowClient> {
    const { hostname, port } = new URL(url);
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setNoDelay(true);
    const client = new SlowClient(socket);
    const key = randomBytes(16).toString('base64');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(
      `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const opened = client.next((t) => t.startsWith('0{'), timeoutMs);
    await opened;
    client.send(`40${JSON.stringify({ session })}`);
    const connected = await client.next((t) => t.startsWith('40') || t.startsWith('44'), timeoutMs);
    if (connected.startsWith('44')) throw new Error(`socket.io refused the slow client: ${connected}`);
    return client;
  }

  /** watch:join; waits for the ack unless `blind` (a paused client cannot read it). */
  async join(battleId: string, token: string, blind = false, timeoutMs = 15_000): Promise<void> {
    const id = this.ackId++;
    const acked = blind ? null : this.next((t) => t.startsWith(`43${id}[`), timeoutMs);
    this.send(`42${id}${JSON.stringify(['watch:join', { battleId, token }])}`);
    if (acked && !(await acked).includes('"ok":true')) throw new Error('watch:join refused');
  }

  /** Stops reading for good. */
  pause(keepAlive: boolean): void {
    this.socket.pause();
    if (keepAlive) this.keepAliveTimer = setInterval(() => this.send('3'), 10_000);
  }

  close(): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    this.socket.destroy();
    this.closed = true;
  }

  private next(match: (text: string) => boolean, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('slow client: no answer')), timeoutMs);
      this.waiters.push({ match, resolve: (text) => (clearTimeout(timer), resolve(text)) });
    });
  }

  /** One masked text frame (clients must mask). */
  private send(text: string): void {
    if (this.closed) return;
    const payload = Buffer.from(text);
    const mask = randomBytes(4);
    const length = payload.length;
    const header = length < 126 ? Buffer.alloc(2) : Buffer.alloc(4);
    header[0] = 0x81;
    if (length < 126) header[1] = 0x80 | length;
    else {
      header[1] = 0x80 | 126;
      header.writeUInt16BE(length, 2);
    }
    for (let i = 0; i < length; i++) payload[i]! ^= mask[i & 3]!;
    this.socket.write(Buffer.concat([header, mask, payload]));
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (!this.handshaken) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buffer.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) {
        this.socket.destroy(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        return;
      }
      this.handshaken = true;
      this.buffer = this.buffer.subarray(end + 4);
    }
    for (;;) {
      if (this.buffer.length < 2) return;
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const opcode = this.buffer[0]! & 0x0f;
      const text = this.buffer.subarray(offset, offset + length).toString();
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode !== 1) continue;
      if (text === '2') this.send('3'); // Engine.IO ping, answered while still reading
      const index = this.waiters.findIndex((w) => w.match(text));
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(text);
    }
  }
}
