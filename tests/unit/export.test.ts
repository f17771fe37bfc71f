import { describe, expect, it } from 'vitest';
import {
  fromFastChatBattle,
  InvalidBattleError,
  parseBattleFile,
  toFastChatBattle,
  toFastChatLine,
  toPreferencePair,
} from '../../server/arena/export.js';
import type { BattleRecord, Turn, VoteChoice } from '../../server/store/types.js';
import { voteRecordFor } from '../../server/store/vote-record.js';

function turn(prompt: string, left: string, right: string): Turn {
  return {
    prompt,
    startedAt: 1,
    answers: {
      left: { text: left, reasoning: 'thinking…', status: 'done' },
      right: { text: right, reasoning: '', status: 'done' },
    },
  };
}

function votedBattle(choice: VoteChoice, overrides: Partial<BattleRecord> = {}): BattleRecord {
  return {
    id: 'battle-1',
    sessionHash: 'judge-sha',
    createdAt: 1_700_000_000_000,
    mode: 'arena',
    models: { left: 'llama3', right: 'qwen2' },
    systemPrompt: '',
    turns: [turn('Why is the sky blue?', 'Rayleigh scattering.', 'The ocean.')],
    leak: { left: false, right: false },
    vote: { choice, at: 1_700_000_123_457 },
    watchToken: 'w',
    ...overrides,
  };
}

const multiTurn = votedBattle('right', {
  systemPrompt: 'Be brief.',
  turns: [turn('Q1', 'L1', 'R1'), turn('Q2', 'L2', 'R2')],
});

describe('toFastChatBattle', () => {
  it.each([
    ['left', 'model_a'],
    ['right', 'model_b'],
    ['tie', 'tie'],
    ['bothbad', 'tie (bothbad)'],
  ] as const)('maps a %s vote to winner %s', (choice, winner) => {
    expect(toFastChatBattle(votedBattle(choice)).winner).toBe(winner);
  });

  it('writes a single-turn battle in FastChat form', () => {
    expect(toFastChatBattle(votedBattle('left'))).toEqual({
      question_id: 'battle-1',
      model_a: 'llama3',
      model_b: 'qwen2',
      winner: 'model_a',
      judge: 'judge-sha',
      conversation_a: [
        { role: 'user', content: 'Why is the sky blue?' },
        { role: 'assistant', content: 'Rayleigh scattering.' },
      ],
      conversation_b: [
        { role: 'user', content: 'Why is the sky blue?' },
        { role: 'assistant', content: 'The ocean.' },
      ],
      turn: 1,
      anony: true,
      language: 'unknown',
      tstamp: 1_700_000_123.457,
      arena_excluded: false,
    });
  });

  it('builds each side of a multi-turn conversation, system prompt first', () => {
    const exported = toFastChatBattle(multiTurn);
    expect(exported.turn).toBe(2);
    expect(exported.conversation_b).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Q1' },
      { role: 'assistant', content: 'R1' },
      { role: 'user', content: 'Q2' },
      { role: 'assistant', content: 'R2' },
    ]);
    expect(exported.conversation_a.map((m) => m.content)).toEqual(['Be brief.', 'Q1', 'L1', 'Q2', 'L2']);
  });

  it('flags a leaked battle as excluded', () => {
    expect(toFastChatBattle(votedBattle('tie', { leak: { left: false, right: true } })).arena_excluded).toBe(true);
  });

  it('refuses a battle without a vote', () => {
    expect(() => toFastChatBattle({ ...votedBattle('left'), vote: undefined })).toThrow(/no vote/);
  });
});

describe('toPreferencePair', () => {
  it('pairs the winner against the loser for a single turn', () => {
    expect(toPreferencePair(votedBattle('left'))).toEqual({
      prompt: [{ role: 'user', content: 'Why is the sky blue?' }],
      chosen: [{ role: 'assistant', content: 'Rayleigh scattering.' }],
      rejected: [{ role: 'assistant', content: 'The ocean.' }],
    });
  });

  it('shares only the system prompt and first prompt across a multi-turn pair', () => {
    expect(toPreferencePair(multiTurn)).toEqual({
      prompt: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Q1' },
      ],
      chosen: [
        { role: 'assistant', content: 'R1' },
        { role: 'user', content: 'Q2' },
        { role: 'assistant', content: 'R2' },
      ],
      rejected: [
        { role: 'assistant', content: 'L1' },
        { role: 'user', content: 'Q2' },
        { role: 'assistant', content: 'L2' },
      ],
    });
  });

  it.each(['tie', 'bothbad'] as const)('has no pair for a %s vote', (choice) => {
    expect(toPreferencePair(votedBattle(choice))).toBeNull();
  });

  it('has no pair for a battle without turns', () => {
    expect(toPreferencePair(votedBattle('left', { turns: [] }))).toBeNull();
  });
});

describe('fromFastChatBattle', () => {
  it.each(['left', 'right', 'tie', 'bothbad'] as const)('round-trips a %s vote through JSON', (choice) => {
    const battle = votedBattle(choice, { leak: { left: choice === 'tie', right: false } });
    const line = JSON.stringify(toFastChatBattle(battle));
    expect(fromFastChatBattle(JSON.parse(line))).toEqual(voteRecordFor(battle, choice, battle.vote!.at));
  });

  it('excludes non-anonymous battles from FastChat dumps', () => {
    const line = { ...toFastChatBattle(votedBattle('left')), anony: false, arena_excluded: undefined };
    expect(fromFastChatBattle(line).excluded).toBe(true);
  });

  it('names the bad field in a typed error', () => {
    const bad = { ...toFastChatBattle(votedBattle('left')), winner: 'model_c' };
    const error = (() => {
      try {
        fromFastChatBattle(bad);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InvalidBattleError);
    expect((error as InvalidBattleError).field).toBe('winner');
    expect((error as InvalidBattleError).message).toMatch(/^winner: /);
  });
});

describe('parseBattleFile', () => {
  it('parses good lines and reports bad ones with 1-based line numbers', () => {
    const good = JSON.stringify(toFastChatBattle(votedBattle('left')));
    const { model_b: _dropped, ...missingModelB } = toFastChatBattle(votedBattle('right'));
    const text = [good, '{not json', '', JSON.stringify(missingModelB), JSON.stringify([1]), good, ''].join('\r\n');

    const { votes, errors } = parseBattleFile(text);

    expect(votes).toHaveLength(2);
    expect(votes[0]).toEqual(fromFastChatBattle(JSON.parse(good)));
    expect(errors.map((e) => e.line)).toEqual([2, 4, 5]);
    expect(errors[0].message).toMatch(/^invalid JSON/);
    expect(errors[1].message).toMatch(/^model_b: /);
    expect(errors[2].message).toMatch(/^\(line\): /);
  });
});

describe('import without question_id, and what an export carries', () => {
  const minimal = { model_a: 'llama3', model_b: 'qwen2', winner: 'model_a', judge: 'j1', tstamp: 1_700_000_000 };

  it('derives a stable id from the content fields: same content, same id, whatever the key order', () => {
    const vote = fromFastChatBattle(minimal);
    expect(vote.battleId).toMatch(/^fc-[0-9a-f]{32}$/);
    const reordered = Object.fromEntries(Object.entries(minimal).reverse());
    expect(fromFastChatBattle(reordered).battleId).toBe(vote.battleId);
    expect(fromFastChatBattle({ ...minimal, winner: 'model_b' }).battleId).not.toBe(vote.battleId);
    expect(fromFastChatBattle({ ...minimal, tstamp: 1_700_000_001 }).battleId).not.toBe(vote.battleId);
  });

  it('imports every line of a file that has no ids', () => {
    const text = [0, 1, 2].map((i) => JSON.stringify({ ...minimal, tstamp: minimal.tstamp + i })).join('\n');
    const { votes, errors } = parseBattleFile(text);
    expect(errors).toEqual([]);
    expect(new Set(votes.map((v) => v.battleId)).size).toBe(3);
  });

  it('writes an imported vote (no battle) with its categories and style, and reads it back unchanged', () => {
    const style = {
      sum_user_tokens: 12, sum_assistant_a_tokens: 300, sum_assistant_b_tokens: 90, context_a_tokens: 312, context_b_tokens: 102, turns: 2,
      header_count_a: { h1: 0, h2: 3, h3: 1, h4: 0, h5: 0, h6: 0 }, list_count_a: { ordered: 4, unordered: 2 }, bold_count_a: { '**': 5, __: 0 },
      header_count_b: { h1: 0, h2: 0, h3: 0, h4: 0, h5: 0, h6: 0 }, list_count_b: { ordered: 0, unordered: 0 }, bold_count_b: { '**': 0, __: 0 },
    };
    const vote = { ...fromFastChatBattle({ ...minimal, question_id: 'q1' }), categories: ['coding', 'multi_turn', 'lang:deu'], style };
    const line = toFastChatLine(vote, null);
    expect(line).toMatchObject({ question_id: 'q1', conversation_a: [], conversation_b: [], turn: 2, language: 'German', is_code: true, conv_metadata: style });
    expect(fromFastChatBattle(JSON.parse(JSON.stringify(line)))).toEqual(vote);
  });

  it('derives board ids from FastChat\'s own category fields', () => {
    const vote = fromFastChatBattle({
      ...minimal,
      language: 'Chinese',
      is_code: false,
      turn: 3,
      category_tag: {
        'criteria_v0.1': { specificity: true, domain_knowledge: true, complexity: true, problem_solving: true, creativity: false, technical_accuracy: true, real_world: true },
        'if_v0.1': { if: true, score: 4 },
        'math_v0.1': { math: true },
        'creative_writing_v0.1': { creative_writing: false, score: 'no' },
      },
    });
    expect(vote.categories).toEqual(['math', 'instruction_following', 'hard_prompt', 'multi_turn', 'lang:cmn']);
  });

  it('rejects malformed style metadata with the field named', () => {
    expect(() => fromFastChatBattle({ ...minimal, conv_metadata: { sum_assistant_a_tokens: 'many' } })).toThrow(/conv_metadata\.sum_assistant_a_tokens/);
  });
});
