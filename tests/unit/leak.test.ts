import { describe, expect, it } from 'vitest';
import { claimsIdentity, leakWords } from '../../server/arena/leak.js';
import { flagged, readLeakSet, score, scoreByLanguage } from '../../scripts/leak-eval.js';

const rows = readLeakSet();
const LANGUAGES = ['en', 'zh', 'es', 'fr', 'de', 'pt', 'ru', 'ja'];

describe('the labelled answer set', () => {
  it('has 300+ answers in 8 languages, both classes in each, many model families and every kind of trap', () => {
    expect(rows.length).toBeGreaterThanOrEqual(300);
    expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
    for (const lang of LANGUAGES) {
      const of = rows.filter((r) => r.lang === lang);
      expect(of.filter((r) => r.leak).length, lang).toBeGreaterThanOrEqual(14);
      expect(of.filter((r) => !r.leak).length, lang).toBeGreaterThanOrEqual(13);
    }
    expect(new Set(rows.map((r) => r.model.split('/')[0])).size).toBeGreaterThanOrEqual(20);
    const kinds = new Set(rows.map((r) => r.kind));
    for (const kind of ['self', 'self-reasoning', 'other-claim', 'denial', 'mention', 'code', 'chunk-trap', 'draft']) expect(kinds).toContain(kind);
  });
});

describe('identity-leak detection on the labelled set', () => {
  it('meets the targets: recall ≥ 95 %, false flags ≤ 2 % (figures in docs/security.md)', () => {
    const all = score(rows);
    expect(all.leaks + all.clean).toBe(rows.length);
    expect(all.recall).toBeGreaterThanOrEqual(0.95);
    expect(all.falseFlagRate).toBeLessThanOrEqual(0.02);
    for (const s of scoreByLanguage(rows)) expect(s.recall, s.lang).toBeGreaterThanOrEqual(0.9);
  });

  it('never flags a claim to be another model, a denial, code, a chunk-edge trap, or a first-person text drafted for the user', () => {
    const wrong = rows.filter((r) => ['other-claim', 'denial', 'code', 'chunk-trap', 'draft'].includes(r.kind) && flagged(r)).map((r) => r.id);
    expect(wrong).toEqual([]);
  });

  it('checks names stated only inside the reasoning', () => {
    const inReasoning = rows.filter((r) => r.kind === 'self-reasoning');
    expect(inReasoning.length).toBeGreaterThanOrEqual(8);
    expect(inReasoning.filter((r) => !flagged(r)).map((r) => r.id)).toEqual([]);
    // The visible text alone says nothing: the reasoning is what names the model.
    expect(inReasoning.filter((r) => flagged({ ...r, reasoning: undefined })).map((r) => r.id)).toEqual([]);
  });
});

describe('leak words', () => {
  it("come from the arena id and the deployments' model names, through a stoplist of fragments", () => {
    expect(leakWords(['model-a'])).toEqual([]);
    expect(leakWords(['model-a', 'meta-llama/Llama-3.1-8B-Instruct'])).toEqual(expect.arrayContaining(['llama', 'meta']));
    const words = leakWords(['unsloth/Llama-3.2-3B-Instruct-bnb-4bit', 'CohereForAI/c4ai-command-r-plus', 'claude-3-5-sonnet', 'gemma3:4b-it-q4_K_M', 'Llama-3-8B-GPTQ']);
    for (const fragment of ['bnb', 'bit', 'command', 'sonnet', 'assistant', 'instruct', 'plus', 'unsloth', 'gptq', 'openai', 'chatgpt'])
      expect(words).not.toContain(fragment);
    expect(words).toEqual(expect.arrayContaining(['llama', 'cohere', 'command r', 'claude', 'anthropic', 'gemma', 'google']));
  });

  it('match CJK words mid-sentence, and Latin names next to CJK text', () => {
    expect(claimsIdentity(['星火'], '好的，我是星火认知大模型，很高兴为你服务。')).toBe(true);
    expect(claimsIdentity(leakWords(['Qwen/Qwen2.5-7B-Instruct']), '好的！我是Qwen，很高兴认识你。')).toBe(true);
    expect(claimsIdentity(leakWords(['gemma3:4b']), 'はい、私はGemmaです。')).toBe(true);
  });

  it('do not match inside longer words (metadata, llamas, philosophy, Mistralian)', () => {
    const words = leakWords(['meta-llama/Llama-3.1-8B', 'microsoft/Phi-3-mini', 'mistralai/Mistral-7B']);
    for (const text of ['I am metadata-driven.', 'I am llamas all the way down.', 'I am philosophy-minded.', 'I am Mistralian by temperament.'])
      expect(claimsIdentity(words, text), text).toBe(false);
    expect(claimsIdentity(words, 'I am Llama.')).toBe(true);
  });
});
