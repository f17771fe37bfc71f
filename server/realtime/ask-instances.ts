import type { Server } from 'socket.io';

/**
 * Asks every other instance (through the adapter) and resolves with their answers. Never rejects
 * and always settles: while Redis is down the cluster adapter's server-side emit fails before
 * publishing (it first counts servers with `PUBSUB SHARDNUMSUB` on the publisher, which has no
 * offline queue), and `io.serverSideEmit` would leave that rejection unhandled and the ack
 * uncalled. Here it counts as "no other instance answered".
 */
export function askOtherInstances<T>(io: Server<any, any, any, any>, event: string, ...args: unknown[]): Promise<T[]> {
  return new Promise((resolve) => {
    const collect = (_err: Error | null, responses: T[] | undefined) => resolve(responses ?? []);
    try {
      const sent: unknown = io.of('/').adapter.serverSideEmit([event, ...args, collect]);
      if (sent instanceof Promise) sent.catch(() => resolve([]));
    } catch {
      resolve([]);
    }
  });
}
