import { describe, expect, it } from 'vitest';
import { simulatedAnswer } from '../../server/sim/answer.js';
import { shapeOf, topicWords } from '../../server/sim/shapes.js';

const ask = (model: string, prompt: string) => simulatedAnswer(model, [{ role: 'user', content: prompt }]).text;

describe('demo answers shaped by the prompt', () => {
  it('answers a comparison with a table, code with a fenced block, a formula with display maths, how-to with steps', () => {
    expect(ask('llama3.1:8b', 'Compare arrays vs linked lists')).toMatch(/\| Aspect \| Arrays \| Linked lists \|\n\| --- \| --- \| --- \|/);
    expect(ask('llama3.1:8b', 'Write a python function to dedupe a list')).toMatch(/```python\ndef dedupe\(items\):/);
    expect(ask('mistral:7b', 'What is the formula for the sum of 1 to n?')).toMatch(/\$\$\n.+\n\$\$/);
    expect(ask('gemma2:2b', 'How do rainbows form?')).toMatch(/\n1\. .+\n2\. .+\n3\. /);
    expect(ask('qwen3:4b', 'Tell me about volcanoes')).toMatch(/\n- \*\*/);
  });

  it('is deterministic per model and prompt, and differs between models', () => {
    const prompt = 'Tell me about the history of bridges.';
    expect(ask('llama3.1:8b', prompt)).toBe(ask('llama3.1:8b', prompt));
    const answers = new Set(['llama3.1:8b', 'qwen3:4b', 'mistral:7b', 'gemma2:2b', 'phi3:mini'].map((m) => ask(m, prompt)));
    expect(answers.size).toBeGreaterThanOrEqual(3);
  });

  it('stays within the model’s token budget, cutting at whole blocks', () => {
    const text = simulatedAnswer({ name: 'tiny', maxTokens: 12, shapedAnswers: true }, [{ role: 'user', content: 'Compare arrays vs linked lists' }]).text;
    expect(text.match(/\S+\s*/g)!.length).toBeLessThanOrEqual(12);
    expect(text).not.toContain('| --- |'); // the table does not fit, so it is left out rather than cut
  });

  it('never echoes a vendor or family name from the prompt (that would trip the identity-leak check)', () => {
    expect(topicWords('Is llama better than qwen or gemma for cooking recipes?')).toEqual(['cooking', 'recipes']);
    expect(ask('phi3:mini', 'Compare llama vs mistral for poems')).not.toMatch(/llama|mistral/i);
    expect(shapeOf('Explain photosynthesis')).toBe('overview');
  });
});
