/**
 * How many arena models are up, live: the public status feed that /status shows, reduced to two
 * numbers. The duel page turns them into its outage banner and into the reason Send is disabled.
 */
import { call, getSocket, listen } from './socket';

export class Availability {
  /** Undefined until the first snapshot arrives. */
  up = $state<number>();
  total = $state<number>();

  /** Fewer than two models up: no duel can start. */
  outage = $derived(this.up !== undefined && this.up < 2);

  /** Follows the status feed (again after every reconnect). Returns the cleanup for onMount. */
  connect(): () => void {
    const socket = getSocket();
    const count = (models: { available: boolean }[]) => {
      this.up = models.filter((m) => m.available).length;
      this.total = models.length;
    };
    const subscribe = async () => {
      const res = await call('status:subscribe', {});
      if (res.ok) count(res.status.models);
    };
    const off = listen(socket, { connect: subscribe, 'status:update': (status) => count(status.models) });
    if (socket.connected) void subscribe();
    return off;
  }
}
