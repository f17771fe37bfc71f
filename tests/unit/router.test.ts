import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../server/providers/errors.js';
import { createStaticProvider } from '../../server/providers/static.js';
import type { ChatRequest, StreamPart } from '../../server/providers/types.js';
import { CLASSIFIER_MODEL, classify, scorePrompt } from '../../server/router/classifier.js';
import { explicitRoute } from '../../server/router/explicit.js';
import { createRouter } from '../../server/router/index.js';
import { applyRules } from '../../server/router/rules.js';

const FINISH: StreamPart = { type: 'finish', reason: 'stop', usage: {}, totalMs: 0 };
const answering = (text: string) => createStaticProvider([{ type: 'text', text }, FINISH]);

describe('explicit layer', () => {
  it('honours the mode toggle', () => {
    expect(explicitRoute('hello', 'tools')).toEqual({ prompt: 'hello', decision: { route: 'tools', layer: 'explicit', reason: 'the user chose tools mode', confidence: 1 } });
    expect(explicitRoute('what is 2+2', 'arena').decision?.route).toBe('arena');
    expect(explicitRoute('hello', 'auto')).toEqual({ prompt: 'hello' });
  });

  it('strips a /tools or /arena prefix, which wins over the toggle', () => {
    expect(explicitRoute('/tools   what time is it', 'arena')).toEqual({
      prompt: 'what time is it',
      decision: { route: 'tools', layer: 'explicit', reason: 'the prompt starts with /tools', confidence: 1 },
    });
    expect(explicitRoute(' /ARENA what is 2+2').decision?.route).toBe('arena');
    expect(explicitRoute('/arena')).toMatchObject({ prompt: '', decision: { route: 'arena' } });
  });

  it('ignores lookalikes', () => {
    expect(explicitRoute('/toolsmith is a word')).toEqual({ prompt: '/toolsmith is a word' });
    expect(explicitRoute('use /tools here')).toEqual({ prompt: 'use /tools here' });
  });
});

describe('rules layer', () => {
  it.each([
    ['What is 347 * 29?', 'bare-expression'],
    ["what's 17 x 23", 'bare-expression'],
    ['sqrt(2) * sqrt(8)', 'bare-expression'],
    ['what is 100 minus 37', 'arithmetic-words'],
    ['square root of 1849', 'arithmetic-words'],
    ['area of a circle with radius 4', 'geometry'],
    ['18% tip on a $64.50 bill', 'percentage'],
    ['45 is what percent of 180?', 'percentage'],
    ['split $120 between 4 people', 'bill-split'],
    ['What time is it in Lima?', 'current-time'],
    ["today's date?", 'current-time'],
    ['how many days until Christmas', 'date-arithmetic'],
    ['what day of the week was 12 March 1988', 'date-arithmetic'],
    // A holiday's weekday in a named year, or a date's weekday, needs the calendar even without a digit.
    ['what day does christmas eve fall on this year', 'date-arithmetic'],
    ['is new years eve on a friday this year', 'date-arithmetic'],
    ['does the fourth of july fall on a weekend next year?', 'date-arithmetic'],
    ['is the 25th of december 2026 a sunday', 'date-arithmetic'],
    ['Convert 72 Fahrenheit to Celsius', 'unit-conversion'],
    ['5 miles in km', 'unit-conversion'],
    ['how many cups in a gallon', 'unit-conversion'],
    ['how much is 50 euros in dollars', 'currency-conversion'],
    ["what's the weather in Oslo right now", 'live-data'],
    ['set a timer for 5 minutes', 'action'],
  ])('%s -> tools by %s', (prompt, rule) => {
    const verdict = applyRules(prompt);
    expect(verdict).toMatchObject({ route: 'tools', layer: 'rules', reason: expect.stringMatching(new RegExp(`^rule ${rule} matched "`)) });
    expect('confidence' in verdict && verdict.confidence).toBeGreaterThanOrEqual(0.9);
  });

  it.each([
    'Explain how calculators work.',
    'What is the history of time zones?',
    'What does 24/7 mean?',
    'Plan a 3-day itinerary for Rome.',
    'What is the time complexity of quicksort?',
    'How do I convert a string to an integer in Python?',
    'Why do 90% of startups fail?',
    'how many hours of sleep do teenagers need',
    'Write a song about a 9 to 5 job.',
    'how do I set a timer on my phone',
    'remind me what a closure is',
    'What happened on 9/11?',
    // Asking for an explanation or a rewrite keeps a prompt out of the rules, sums or not.
    'explain 1+1=2 to a six-year-old',
    'why does 0.1 + 0.2 == 0.30000000000000004 in js',
    'shorten this: revenue grew by 14% to $2.3 billion and costs rose 6%',
    "what's the time difference between london and new york usually",
    'what day is christmas',
    'why is christmas on a friday this year?',
    'is christmas a big deal in japan this year',
  ])('abstains on %s', (prompt) => {
    expect(applyRules(prompt)).toEqual({ abstain: true, layer: 'rules', reason: 'no rule matched' });
  });
});

describe('classifier layer', () => {
  it('scores tool-like prompts high and general ones low, naming its cues', () => {
    const tools = scorePrompt('how much would I pay each month on a loan of 8000 over 3 years');
    const arena = scorePrompt('write a short poem about my grandmother');
    expect(tools.pTools).toBeGreaterThan(0.7);
    expect(arena.pTools).toBeLessThan(0.3);
    expect(tools.cues.length).toBeGreaterThan(0);
  });

  it('decides with a readable reason when sure, and abstains between the thresholds', () => {
    const sure = classify('write a short poem about my grandmother');
    expect(sure).toMatchObject({ route: 'arena', layer: 'classifier', reason: expect.stringMatching(/^classifier p\(tools\)=0\.\d\d/) });
    const { pTools } = scorePrompt('write a short poem about my grandmother');
    expect('confidence' in sure && sure.confidence).toBeCloseTo(1 - pTools, 10);
    expect(classify('write a short poem about my grandmother', { tools: 0.999, arena: 0 })).toMatchObject({ abstain: true, layer: 'classifier', arenaConfidence: 1 - pTools });
    const tools = classify('how much would I pay each month on a loan of 8000 over 3 years');
    expect(tools).toMatchObject({ route: 'tools', layer: 'classifier' });
    expect('confidence' in tools && tools.confidence).toBeGreaterThanOrEqual(CLASSIFIER_MODEL.thresholds.tools);
  });

  it('reads the same request in other languages and scripts, and keeps number-laden writing in the arena', () => {
    for (const prompt of ['¿cuántos días faltan para navidad?', 'combien font 37 fois 28', 'wie spät ist es gerade in tokio', '100美元换多少人民币', 'сколько будет 72 умножить на 19'])
      expect(classify(prompt), prompt).toMatchObject({ route: 'tools' });
    for (const prompt of ['traduce al inglés: "la reunión es el 3 de marzo a las 10"', 'explique a un enfant de 6 ans pourquoi 1+1=2', 'fasse diese Tabelle zusammen: Nord 1.200, Süd 980, West 2.100'])
      expect(classify(prompt), prompt).toMatchObject({ route: 'arena' });
  });
});

describe('createRouter cascade', () => {
  it('lets the cheapest layer with an opinion decide', async () => {
    const router = createRouter();
    expect(await router.decide('/arena what is 12 * 12')).toMatchObject({ route: 'arena', layer: 'explicit', prompt: 'what is 12 * 12' });
    expect(await router.decide('what is 12 * 12')).toMatchObject({ route: 'tools', layer: 'rules', prompt: 'what is 12 * 12' });
    expect(await router.decide('write a short poem about my grandmother')).toMatchObject({ route: 'arena', layer: 'classifier' });
    expect(await router.decide('hello', 'tools')).toMatchObject({ route: 'tools', layer: 'explicit' });
  });

  it('stays fast on long, repetitive prompts that could make patterns backtrack', async () => {
    const router = createRouter();
    for (const prompt of ['1,'.repeat(4_000), '1 '.repeat(4_000), '$1 '.repeat(2_600), 'how many days '.repeat(570), '5 km to '.repeat(1_000)]) {
      const started = performance.now();
      await router.decide(prompt);
      // Backtracking patterns take seconds here; a linear pass takes ~15 ms on a quiet machine, so
      // 1 s is a margin for shared cores, not a speed target (that is the bench's job).
      expect(performance.now() - started).toBeLessThan(1_000);
    }
  });

  it('defaults to arena when every layer abstains, saying why', async () => {
    const rulesOnly = createRouter({ classifier: false });
    expect(await rulesOnly.decide('write a short poem about my grandmother')).toEqual({
      route: 'arena',
      layer: 'rules',
      reason: 'no rule matched: arena by default',
      confidence: 0.5,
      prompt: 'write a short poem about my grandmother',
    });
  });

  it('asks the LLM only when the earlier layers abstain, and takes a strict one-word answer', async () => {
    const seen: ChatRequest[] = [];
    const spy = createStaticProvider((req) => {
      seen.push(req);
      return [{ type: 'text', text: ' Tools.' }, FINISH];
    });
    const router = createRouter({ classifier: false, llm: { provider: spy, model: 'judge', timeoutMs: 1_000 } });
    expect(await router.decide('what is 2 + 2')).toMatchObject({ layer: 'rules' });
    expect(seen).toHaveLength(0);
    expect(await router.decide('is the bakery on 5th street open')).toMatchObject({ route: 'tools', layer: 'llm', reason: 'LLM judge answered TOOLS', confidence: 0.75 });
    expect(seen[0]).toMatchObject({ model: 'judge', maxTokens: 5, temperature: 0 });
    expect(seen[0]!.messages.at(-1)!.content).toContain('is the bakery on 5th street open');

    const arena = createRouter({ classifier: false, llm: { provider: answering('ARENA'), model: 'judge', timeoutMs: 1_000 } });
    expect(await arena.decide('tell me about otters')).toMatchObject({ route: 'arena', layer: 'llm' });
  });

  it('treats a chatty answer or a failed call as an abstention', async () => {
    const chatty = createRouter({ classifier: false, llm: { provider: answering('I think this needs TOOLS'), model: 'judge', timeoutMs: 1_000 } });
    expect(await chatty.decide('tell me about otters')).toMatchObject({
      route: 'arena',
      layer: 'llm',
      reason: 'no rule matched; LLM judge answered "I think this needs TOOLS", not TOOLS or ARENA: arena by default',
      confidence: 0.5,
    });
    const failing = createStaticProvider([{ type: 'error', error: new ProviderError('busy', 'queue full') }]);
    const busy = createRouter({ classifier: false, llm: { provider: failing, model: 'judge', timeoutMs: 1_000 } });
    expect(await busy.decide('tell me about otters')).toMatchObject({
      route: 'arena',
      layer: 'llm',
      reason: 'no rule matched; LLM judge failed (busy: queue full): arena by default',
    });
  });
});
