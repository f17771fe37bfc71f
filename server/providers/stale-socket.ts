/**
 * Runs `attempt` again, once, when the connection was reset before any response: mostly a pooled
 * keep-alive socket the server had closed (it restarted, or its idle timeout beat ours). Without it
 * the first request after a backend restart fails with "other side closed" instead of reaching the
 * backend or reporting its real state (e.g. connection refused).
 */
export async function retryOnStaleSocket<T>(attempt: () => Promise<T>, signal?: AbortSignal | null): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    if (!isStaleSocket(err) || signal?.aborted) throw err;
    return attempt();
  }
}

/** fetch with `retryOnStaleSocket`. */
export function retryingStaleSockets(doFetch: typeof fetch): typeof fetch {
  return (input, init) => retryOnStaleSocket(() => doFetch(input, init), init?.signal);
}

/** node:http puts the code on the error, undici (fetch) on its `cause`. */
function isStaleSocket(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}
