import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../server/providers/errors.js';
import { createStaticProvider } from '../../server/providers/static.js';
import type { ChatRequest, StreamPart } from '../../server/providers/types.js';
import { collect, summarize } from '../fixtures/transcripts/parts.js';

const REQUEST: ChatRequest = { model: 'static-model', messages: [{ role: 'user', content: 'hi' }] };
const FINISH: StreamPart = { type: 'finish', reason: 'stop', usage: { completionTokens: 3 }, totalMs: 0 };

describe('static provider', () => {
  it('replays its parts and stamps the finish with measured timings', async () => {
    const provider = createStaticProvider([{ type: 'reasoning', text: 'hmm' }, { type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }, FINISH]);
    const parts = await collect(provider.stream(REQUEST));
    expect(parts.slice(0, 3)).toEqual([
      { type: 'reasoning', text: 'hmm' },
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
    ]);
    expect(parts[3]).toMatchObject({ type: 'finish', reason: 'stop', usage: { completionTokens: 3 } });
    expect((parts[3] as { ttftMs?: number }).ttftMs).toBeGreaterThanOrEqual(0);
    expect(provider.kind).toBe('static');
  });

  it('builds the parts from the request when given a function', async () => {
    const provider = createStaticProvider((req) => [{ type: 'text', text: req.messages.at(-1)?.content ?? '' }, FINISH]);
    expect(summarize(await collect(provider.stream(REQUEST))).text).toBe('hi');
  });

  it('turns an error part into the final error and sends nothing after it', async () => {
    const failure = new ProviderError('busy', 'queue full');
    const provider = createStaticProvider([{ type: 'text', text: 'a' }, { type: 'error', error: failure }, { type: 'text', text: 'b' }, FINISH]);
    const parts = await collect(provider.stream(REQUEST));
    expect(parts).toEqual([{ type: 'text', text: 'a' }, { type: 'error', error: failure }]);
  });

  it('ends a script without a finish with a connection_reset error', async () => {
    const s = summarize(await collect(createStaticProvider([{ type: 'text', text: 'a' }]).stream(REQUEST)));
    expect(s.error?.code).toBe('connection_reset');
    expect(s.terminals).toBe(1);
  });

  it('applies the idle timeout to a slow script', async () => {
    const provider = createStaticProvider([{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }, FINISH], {
      delayMs: 200,
      timeouts: { connectMs: 1_000, firstTokenMs: 1_000, idleMs: 50 },
    });
    const s = summarize(await collect(provider.stream(REQUEST)));
    expect(s.text).toBe('a');
    expect(s.error?.code).toBe('idle_timeout');
  });

  it('stops at once on abort, even while waiting between parts', async () => {
    const controller = new AbortController();
    const provider = createStaticProvider([{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }, FINISH], { delayMs: 5_000 });
    const pending = collect(provider.stream({ ...REQUEST, signal: controller.signal }));
    controller.abort();
    const s = summarize(await pending);
    expect(s.error?.code).toBe('aborted');
    expect(s.text).toBe('');
  });
});
