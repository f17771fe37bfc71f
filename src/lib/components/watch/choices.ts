import type { VoteChoice } from '$shared/protocol';

/** How a verdict reads in a sentence ("The owner voted: A is better"), in the vote bar's order. */
export const CHOICE_LABELS: Record<VoteChoice, string> = {
  left: 'A is better',
  right: 'B is better',
  tie: 'Tie',
  bothbad: 'Both are bad',
};
