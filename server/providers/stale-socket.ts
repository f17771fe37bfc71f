/**
 * fetch that retries once when a pooled keep-alive socket turns out to be closed by the server
 * (it restarted, or its idle timeout beat ours) before any response came back. Without it the
 * first request after a backend restart fails with "other side closed" instead of reaching the
 * backend or reporting the real state (e.g. connection refused).
 */
export function retryingStaleSockets(doFetch: typeof fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await doFetch(input, init);
    } catch (err) {
      if (!isStaleSocket(err) || init?.signal?.aborted) throw err;
      return doFetch(input, init);
    }
  };
}

function isStaleSocket(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
}
