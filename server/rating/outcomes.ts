import type { VoteRecord, VoteChoice } from '../store/types.js';

/**
 * Votes collapsed to unique (pair, outcome) counts: everything Bradley-Terry, the bootstrap and the
 * win matrices need, in at most models² × 3 / 2 cells however many battles there were.
 *
 * Pairs are canonicalised (lower model index first) because the model has no side bias: a left
 * win of A over B and a right win of A over B are the same observation. Cell `3p + o` holds pair
 * p's count of outcome o: 0 = first model won, 1 = tie (tie or both bad), 2 = second model won.
 */
export interface OutcomeCounts {
  /** Model ids, indexed in order of first appearance. */
  models: string[];
  /** First (lower-index) and second model of each pair. */
  first: Int32Array;
  second: Int32Array;
  /** Length 3 × pairs. */
  counts: Float64Array;
  battles: number;
}

export const FIRST_WINS = 0;
export const TIE = 1;
export const SECOND_WINS = 2;
export const OUTCOMES_PER_PAIR = 3;

/** Score of the first model for each outcome: ties are half a win each way. */
export const FIRST_SCORE = [1, 0.5, 0] as const;

const LEFT_OUTCOME: Record<VoteChoice, number> = { left: FIRST_WINS, tie: TIE, bothbad: TIE, right: SECOND_WINS };

/** Callers drop excluded votes and self-battles first; order does not matter here. */
export function collapseVotes(votes: readonly VoteRecord[]): OutcomeCounts {
  const cells = new OutcomeCells();
  for (const vote of votes) cells.add(vote);
  return cells.table();
}

/** The cells of an OutcomeCounts, filled one vote at a time (a live board folds in new votes only). */
export class OutcomeCells {
  private readonly modelIndex = new Map<string, number>();
  private readonly cellCounts = new Map<number, number>();
  private battles = 0;

  add(vote: VoteRecord): void {
    const left = this.indexOf(vote.modelLeft);
    const right = this.indexOf(vote.modelRight);
    const outcome = LEFT_OUTCOME[vote.choice];
    // Cell key = (lower index, higher index, outcome seen from the lower index); up to 65 536 models.
    const key =
      left < right
        ? (left * 0x10000 + right) * OUTCOMES_PER_PAIR + outcome
        : (right * 0x10000 + left) * OUTCOMES_PER_PAIR + (SECOND_WINS - outcome);
    this.cellCounts.set(key, (this.cellCounts.get(key) ?? 0) + 1);
    this.battles++;
  }

  table(): OutcomeCounts {
    return toOutcomeCounts([...this.modelIndex.keys()], this.cellCounts, this.battles);
  }

  private indexOf(model: string): number {
    let index = this.modelIndex.get(model);
    if (index === undefined) {
      index = this.modelIndex.size;
      this.modelIndex.set(model, index);
    }
    return index;
  }
}

function toOutcomeCounts(models: string[], cellCounts: Map<number, number>, battles: number): OutcomeCounts {
  const pairKeys = [...new Set([...cellCounts.keys()].map((key) => Math.floor(key / OUTCOMES_PER_PAIR)))];
  pairKeys.sort((x, y) => x - y);
  const first = new Int32Array(pairKeys.length);
  const second = new Int32Array(pairKeys.length);
  const counts = new Float64Array(pairKeys.length * OUTCOMES_PER_PAIR);
  pairKeys.forEach((pairKey, pair) => {
    first[pair] = Math.floor(pairKey / 0x10000);
    second[pair] = pairKey % 0x10000;
    for (let outcome = 0; outcome < OUTCOMES_PER_PAIR; outcome++) {
      counts[pair * OUTCOMES_PER_PAIR + outcome] = cellCounts.get(pairKey * OUTCOMES_PER_PAIR + outcome) ?? 0;
    }
  });
  return { models, first, second, counts, battles };
}
