import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a service, to cut one client's connections while others keep theirs
 * (a network partition): `cut()` drops every connection and refuses new ones, `restore()` accepts
 * again; `delay(ms)` holds every reply that long (a slow link), in order.
 */
export interface TcpProxy {
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  delay(ms: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }, scheme = 'redis'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let delayMs = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => {
            sockets.delete(s);
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream);
        // Same delay for every chunk: the timers fire in the order the chunks came.
        upstream.on('data', (chunk: Buffer) => (delayMs > 0 ? setTimeout(() => client.write(chunk), delayMs) : client.write(chunk)));
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as { port: number }).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });
  await listen();
  return { url: `${scheme}://127.0.0.1:${port}`, cut: stop, restore: listen, delay: (ms) => void (delayMs = ms), close: stop };
}
