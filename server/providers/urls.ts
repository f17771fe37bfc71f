/** Backend URLs as configured (`http://host:8000`, `https://api.openai.com/v1`, …) to endpoints. */

export function endpointUrl(baseUrl: string, path: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return new URL(path.replace(/^\//, ''), base).href;
}

/** OpenAI-style servers are configured with or without the `/v1` suffix; the SDK needs it. */
export function openAIBaseUrl(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}

/** For reports and logs: the URL without any `user:password@` part. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href.replace(/\/$/, '');
  } catch {
    return '(invalid url)';
  }
}
