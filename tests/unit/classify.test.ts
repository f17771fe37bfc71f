import { countTokens } from 'gpt-tokenizer/encoding/cl100k_base';
import { describe, expect, it } from 'vitest';
import { classifyVotedBattle } from '../../server/classify/battle.js';
import { boardIds, categorizePrompts } from '../../server/classify/categories.js';
import { hardPromptCriteria, isHardPrompt } from '../../server/classify/hard-prompt.js';
import { detectLanguage } from '../../server/classify/language.js';
import { markdownCounts } from '../../server/classify/style.js';
import type { BattleRecord } from '../../server/store/types.js';

const ANSWER = `# Plan

## Steps
1. Install the **tools**.
2. Run \`npm ci\`.
   - check __the lock file__
   * and the registry
+ last

\`\`\`md
# not a header
- not a list item
**not bold**
\`\`\`
### Done **twice** and **thrice**
####### seven hashes is no header
`;

describe('style features (FastChat conv_metadata counts)', () => {
  it('counts headers by level, ordered and unordered list items and bold spans outside code blocks', () => {
    expect(markdownCounts(ANSWER)).toEqual({
      header: { h1: 1, h2: 1, h3: 1, h4: 0, h5: 0, h6: 0 },
      list: { ordered: 2, unordered: 3 },
      bold: { '**': 3, __: 1 },
    });
  });

  it('fills conv_metadata for both sides over every turn, tokens by cl100k_base', async () => {
    const answers = (left: string, right: string) => ({
      left: { text: left, reasoning: '', status: 'done' as const },
      right: { text: right, reasoning: '', status: 'done' as const },
    });
    const battle = {
      turns: [
        { prompt: 'Write a haiku about autumn leaves falling', startedAt: 0, answers: answers('**Red** leaves', '- one\n- two') },
        { prompt: 'Now one about snow', startedAt: 0, answers: answers('## Snow\nhello world', 'plain') },
      ],
    } as BattleRecord;
    const { style, categories } = await classifyVotedBattle(battle);
    expect(style).toMatchObject({
      turns: 2,
      sum_assistant_a_tokens: countTokens('**Red** leaves') + countTokens('## Snow\nhello world'),
      sum_assistant_b_tokens: countTokens('- one\n- two') + countTokens('plain'),
      sum_user_tokens: countTokens('Write a haiku about autumn leaves falling') + countTokens('Now one about snow'),
      header_count_a: { h2: 1 },
      bold_count_a: { '**': 1, __: 0 },
      list_count_b: { ordered: 0, unordered: 2 },
    });
    expect(categories.topics).toEqual(expect.arrayContaining(['creative_writing', 'multi_turn']));
  });
});

describe('categories', () => {
  it('detects the prompt language (franc-min), undetermined when too short', () => {
    expect(detectLanguage('Warum ist der Himmel blau? Erkläre es bitte einem Kind.')).toBe('deu');
    expect(detectLanguage('Why is the sky blue? Please explain it to a child.')).toBe('eng');
    expect(detectLanguage('hi')).toBe('und');
  });

  it.each([
    ['Fix this Python function: def add(a, b): return a - b', 'coding'],
    ['Solve the equation 3x + 7 = 22 for x.', 'math'],
    ['Write a short poem about the sea at night.', 'creative_writing'],
    ['Describe Paris in exactly 3 sentences. Do not mention the Eiffel Tower.', 'instruction_following'],
  ])('tags %j as %s', (prompt, topic) => {
    expect(categorizePrompts([prompt], 20).topics).toContain(topic);
  });

  it('tags long prompts by user tokens and multi-turn by turns; boards carry the language', () => {
    const long = categorizePrompts(['Summarise the following report.', 'And shorter?'], 501);
    expect(long.topics).toEqual(expect.arrayContaining(['long_prompt', 'multi_turn']));
    expect(categorizePrompts(['Hello there, how are you today my friend?'], 10).topics).toEqual([]);
    expect(boardIds({ language: 'eng', topics: ['coding'] })).toEqual(['coding', 'lang:eng']);
  });

  it('calls a prompt hard when at least 6 of the 7 criteria hold, and a chit-chat prompt not', () => {
    const hard =
      'Our team runs a distributed Kubernetes service in production. Design a rate limiter that handles 10,000 requests per second, ' +
      'analyze the trade-offs between token bucket and sliding window, and give an exact worst-case latency estimate. Propose an original approach.';
    const criteria = hardPromptCriteria(hard);
    expect(Object.values(criteria).filter(Boolean).length).toBeGreaterThanOrEqual(6);
    expect(isHardPrompt(criteria)).toBe(true);
    expect(categorizePrompts([hard], 60).topics).toContain('hard_prompt');
    expect(isHardPrompt(hardPromptCriteria('What is your favourite colour?'))).toBe(false);
  });
});
