import { describe, expect, it } from 'vitest';
import { ThinkTagSplitter, type ThinkPiece } from '../../server/providers/think.js';

function split(chunks: string[]): { text: string; reasoning: string; pieces: ThinkPiece[] } {
  const splitter = new ThinkTagSplitter();
  const pieces = [...chunks.flatMap((c) => splitter.push(c)), ...splitter.flush()];
  return {
    pieces,
    text: pieces.filter((p) => p.type === 'text').map((p) => p.text).join(''),
    reasoning: pieces.filter((p) => p.type === 'reasoning').map((p) => p.text).join(''),
  };
}

const SAMPLE = 'Avant <think>je réfléchis 🤔 <b>fort</b></think>\n\nRéponse: 4 < 5 et <thinking> reste du texte.';
const EXPECTED = {
  text: 'Avant \n\nRéponse: 4 < 5 et <thinking> reste du texte.',
  reasoning: 'je réfléchis 🤔 <b>fort</b>',
};

describe('ThinkTagSplitter', () => {
  it('splits reasoning from text in one chunk', () => {
    expect(split([SAMPLE])).toMatchObject(EXPECTED);
  });

  it('gives the same split whatever single cut the stream has', () => {
    for (let cut = 1; cut < SAMPLE.length; cut++) {
      expect(split([SAMPLE.slice(0, cut), SAMPLE.slice(cut)]), `cut at ${cut}`).toMatchObject(EXPECTED);
    }
  });

  it('gives the same split with every pair of cuts inside the tags', () => {
    const open = SAMPLE.indexOf('<think>');
    const close = SAMPLE.indexOf('</think>') + '</think>'.length;
    for (let a = open; a <= close; a++) {
      for (let b = a + 1; b <= close + 1; b++) {
        const result = split([SAMPLE.slice(0, a), SAMPLE.slice(a, b), SAMPLE.slice(b)]);
        expect(result, `cuts at ${a}, ${b}`).toMatchObject(EXPECTED);
      }
    }
  });

  it('handles one character per chunk', () => {
    expect(split([...SAMPLE])).toMatchObject(EXPECTED);
  });

  it('never emits a piece of a tag or an empty piece', () => {
    const { pieces } = split([...SAMPLE]);
    for (const piece of pieces) {
      expect(piece.text).not.toBe('');
      expect(piece.text).not.toMatch(/<\/?think>/);
    }
  });

  it('drops the blank line after a leading think block, wherever the chunks are cut', () => {
    const leading = '<think>Deux plus deux.</think>\n\n  2 + 2 = 4';
    for (let cut = 1; cut < leading.length; cut++) {
      const result = split([leading.slice(0, cut), leading.slice(cut)]);
      expect(result, `cut at ${cut}`).toMatchObject({ text: '2 + 2 = 4', reasoning: 'Deux plus deux.' });
    }
    expect(split([...leading])).toMatchObject({ text: '2 + 2 = 4' });
  });

  it('keeps the whitespace after a think block that follows some text', () => {
    expect(split(['a<think>b</think>\n\nc'])).toMatchObject({ text: 'a\n\nc', reasoning: 'b' });
  });

  it('treats an unclosed think block as reasoning to the end', () => {
    expect(split(['<think>still ', 'going'])).toMatchObject({ text: '', reasoning: 'still going' });
  });

  it('releases a held-back tag prefix as text when the stream ends', () => {
    expect(split(['a <thi'])).toMatchObject({ text: 'a <thi', reasoning: '' });
  });

  it('passes text without tags through unchanged and in order', () => {
    expect(split(['plain ', 'text'])).toEqual({
      text: 'plain text',
      reasoning: '',
      pieces: [
        { type: 'text', text: 'plain ' },
        { type: 'text', text: 'text' },
      ],
    });
  });
});
