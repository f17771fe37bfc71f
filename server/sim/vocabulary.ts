/** Word lists the simulated models draw their prose from. */

export const ADJECTIVES = [
  'quiet', 'careful', 'bright', 'steady', 'simple', 'curious', 'patient', 'rapid', 'gentle', 'clever',
  'modest', 'honest', 'vivid', 'subtle', 'robust', 'narrow', 'broad', 'ancient', 'modern', 'silent',
  'useful', 'precise', 'humble', 'bold', 'calm', 'eager', 'early', 'final', 'fresh', 'golden',
] as const;

export const NOUNS = [
  'river', 'model', 'bridge', 'garden', 'signal', 'answer', 'pattern', 'window', 'engine', 'library',
  'harbor', 'forest', 'method', 'question', 'network', 'teacher', 'compass', 'lantern', 'circuit', 'story',
  'mountain', 'balance', 'journey', 'archive', 'crystal', 'meadow', 'theory', 'memory', 'village', 'record',
] as const;

export const VERBS = [
  'explains', 'guides', 'shapes', 'follows', 'measures', 'connects', 'reveals', 'supports', 'improves', 'tracks',
  'balances', 'gathers', 'protects', 'describes', 'compares', 'builds', 'carries', 'frames', 'tests', 'reaches',
] as const;

export const DETERMINERS = ['the', 'a', 'every', 'this', 'each', 'one'] as const;

export const PREPOSITIONS = ['near', 'beyond', 'across', 'within', 'beside', 'under', 'over', 'through'] as const;

export const CODE_LANGUAGES = ['ts', 'python', 'js', 'sh'] as const;

export const REASONING_OPENERS = [
  'Let me think about this.',
  'Okay, the user wants an answer.',
  'First, consider the question.',
  'Hmm, let me work through it.',
] as const;
