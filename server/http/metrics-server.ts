import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/**
 * Prometheus metrics on their own listener (`metrics.host`:`metrics.port`, 127.0.0.1 by default),
 * never on the public port: per-deployment series move with single battles, and any reverse proxy
 * on the same host (Caddy, Traefik, a plain proxy_pass) would otherwise publish them.
 */
export interface MetricsServer {
  /** Resolves with the scrape URL (`http://host:port/metrics`). */
  listen(port: number, host: string): Promise<string>;
  close(): Promise<void>;
}

export function createMetricsServer(registry: Registry, logger: Logger): MetricsServer {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end('not found: GET /metrics\n');
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => {
        logger.error({ err }, 'metrics collection failed');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics collection failed\n');
      },
    );
  });
  return {
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            err.code === 'EADDRINUSE'
              ? new Error(`metrics port ${host}:${port} is in use: set metrics.port (METRICS_PORT) to a free port, or 0 for any`)
              : err,
          ),
        );
        server.listen(port, host, () => {
          const { port: actual } = server.address() as AddressInfo;
          resolve(`http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${actual}/metrics`);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
