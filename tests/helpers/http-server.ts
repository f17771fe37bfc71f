import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface CountingServer {
  url: string;
  /** TCP connections accepted and closed so far. */
  counts(): { accepted: number; closed: number };
  close(): Promise<void>;
}

/** A real HTTP server on an ephemeral port that counts its connections; `nthOnSocket`: 1 for a connection's first request. */
export async function startHttpServer(handler: (req: IncomingMessage, res: ServerResponse, nthOnSocket: number) => void): Promise<CountingServer> {
  const sockets = new Set<Socket>();
  const perSocket = new WeakMap<Socket, number>();
  let accepted = 0;
  let closed = 0;
  const server = createServer((req, res) => {
    const nth = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, nth);
    req.resume();
    handler(req, res, nth);
  });
  server.on('connection', (socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => closed++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ accepted, closed }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
