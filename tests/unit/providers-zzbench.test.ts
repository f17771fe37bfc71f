import { it } from 'vitest';
import { startTranscriptServer, transcript } from '../../tests/fixtures/transcripts/server.js';
import { createOllamaProvider } from '../../server/providers/ollama.js';
import { createOpenAIProvider } from '../../server/providers/openai.js';
import { collect, summarize } from '../../tests/fixtures/transcripts/parts.js';
it('bench', async () => {
  const srv = await startTranscriptServer();
  const body = transcript('ollama-chat-thinking-tools.ndjson');
  const p = createOllamaProvider({ baseUrl: srv.url, timeouts: { connectMs: 2000, firstTokenMs: 2000, idleMs: 2000 } });
  let t = performance.now();
  for (let k = 1; k < body.length; k++) {
    srv.reply({ body, cuts: [k] });
    const s = summarize(await collect(p.stream({ model: 'm', messages: [] })));
    if (s.error) throw s.error;
  }
  console.log('ollama', body.length, performance.now() - t);
  const b2 = transcript('vllm-stream-usage.sse');
  const o = createOpenAIProvider({ baseUrl: srv.url, kind: 'vllm', timeouts: { connectMs: 2000, firstTokenMs: 2000, idleMs: 2000 } });
  t = performance.now();
  for (let k = 1; k < b2.length; k++) {
    srv.reply({ body: b2, cuts: [k], contentType: 'text/event-stream' });
    const s = summarize(await collect(o.stream({ model: 'm', messages: [] })));
    if (s.error) throw s.error;
  }
  console.log('openai', b2.length, performance.now() - t);
  console.log(JSON.stringify(summarize(await collect(o.stream({ model: 'm', messages: [] })))));
  srv.reply({ body, cuts: [] });
  console.log(JSON.stringify(summarize(await collect(p.stream({ model: 'm', messages: [] })))));
  await srv.close();
}, 60000);
