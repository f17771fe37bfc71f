import type { PublicStatus, StatusSnapshot } from '../../src/lib/shared/status.js';

/**
 * What anyone may see of the status: backend health only. Everything that moves with a single
 * battle's requests names the models of a battle still awaiting its vote on a quiet server: a
 * model loading or waking up, what is in memory, a deployment's state, residency, queue, streams
 * and request rate, the route a request would take (it changes when a GPU is busy), probe
 * latency and the time of the last probe (a failed request triggers an early one). All of that
 * stays in the admin view (GET /api/admin/status with the token). docs/security.md lists it.
 */

export function publicStatus(snapshot: StatusSnapshot): PublicStatus {
  return {
    generatedAt: snapshot.generatedAt,
    backends: snapshot.backends.map((b) => ({
      id: b.id,
      kind: b.kind,
      url: b.url,
      gpu: b.gpu,
      demo: b.demo,
      reachable: b.reachable,
      down: b.recovery !== undefined,
      ...(b.recovery ? { recovery: b.recovery } : {}),
      ...(b.lastError ? { lastError: b.lastError } : {}),
    })),
    models: snapshot.models.map(({ id, label, available }) => ({ id, label, available })),
  };
}

/**
 * Pushes the public status only when it changed. The admin snapshot changes on every load,
 * wake-up or stream; pushing on each of those would itself tell a watcher when a battle's
 * models are being prepared, even with identical content.
 */
export function publicChanges(push: (status: PublicStatus) => void): (snapshot: StatusSnapshot) => void {
  let last = '';
  return (snapshot) => {
    const status = publicStatus(snapshot);
    const { generatedAt: _, ...content } = status;
    const key = JSON.stringify(content);
    if (key === last) return;
    last = key;
    push(status);
  };
}
