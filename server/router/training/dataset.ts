import { readFileSync } from 'node:fs';
import type { Route } from '../types.js';

/** A prompt with the route it should take; the training and evaluation sets are JSONL of these. */
export interface LabelledPrompt {
  prompt: string;
  label: Route;
}

export function readLabelledPrompts(path: string): LabelledPrompt[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line, index) => [line.trim(), index + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, lineNumber]) => {
      const row = JSON.parse(line) as Partial<LabelledPrompt>;
      if (typeof row.prompt !== 'string' || (row.label !== 'arena' && row.label !== 'tools'))
        throw new Error(`${path}:${lineNumber}: expected {"prompt": string, "label": "arena"|"tools"}`);
      return { prompt: row.prompt, label: row.label };
    });
}
