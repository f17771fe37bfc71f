import { describe, expect, it } from 'vitest';
import { boundArguments, MAX_EVENT_ARGUMENT_CHARS } from '../../server/tools/event-arguments.js';

describe('tool-call arguments in events (fix 9)', () => {
  it('passes arguments up to the bound through unchanged', () => {
    const args = { expression: '40+2', note: 'x'.repeat(MAX_EVENT_ARGUMENT_CHARS - 40) };
    expect(JSON.stringify(args).length).toBeLessThanOrEqual(MAX_EVENT_ARGUMENT_CHARS);
    expect(boundArguments(args)).toBe(args);
  });

  it('replaces longer ones by a marked preview that stays under the bound', () => {
    const args = { expression: '40+2', note: 'x'.repeat(1_000_000) };
    const bounded = boundArguments(args);
    expect(bounded).toMatchObject({ truncated: true, totalChars: JSON.stringify(args).length, preview: expect.stringMatching(/^\{"expression":"40\+2","note":"x+…$/) });
    expect(JSON.stringify(bounded).length).toBeLessThan(MAX_EVENT_ARGUMENT_CHARS + 100);
  });

  it('never ends the preview inside a surrogate pair', () => {
    // '😀' is two UTF-16 units; an odd offset puts a pair across the cut.
    const bounded = boundArguments({ t: `${'a'.repeat(1)}${'😀'.repeat(2_000)}` }) as { preview: string };
    expect(bounded.preview).not.toMatch(/[\uD800-\uDBFF]…$/);
    expect(() => encodeURIComponent(bounded.preview)).not.toThrow();
  });
});
