/**
 * Which loaded model leaves GPU memory first. A model is worth keeping in proportion to how often
 * it is asked for (an exponentially decayed request rate) and how long it takes to bring back,
 * and in inverse proportion to the memory it holds: score = rate × reload cost ÷ memory. The
 * lowest score goes first; a model with a stream in flight never goes.
 */

/** Requests per minute where recent requests weigh most: each one's weight halves every half-life. */
export class DecayingRate {
  private weight = 0;
  private at = 0;

  constructor(private readonly halfLifeMs: number) {}

  hit(now: number): void {
    this.weight = this.weightAt(now) + 1;
    this.at = now;
  }

  perMinute(now: number): number {
    // Σ 2^(-age/h) over past hits, times ln2/h, estimates a steady rate (per ms).
    return ((this.weightAt(now) * Math.LN2) / this.halfLifeMs) * 60_000;
  }

  private weightAt(now: number): number {
    return this.weight * 2 ** (-(now - this.at) / this.halfLifeMs);
  }
}

export interface EvictionCandidate {
  key: string;
  sizeMb: number;
  ratePerMinute: number;
  reloadCostMs: number;
  inFlight: number;
}

export function keepScore(c: Pick<EvictionCandidate, 'ratePerMinute' | 'reloadCostMs' | 'sizeMb'>): number {
  return (c.ratePerMinute * c.reloadCostMs) / Math.max(1, c.sizeMb);
}

/**
 * The models to evict, lowest score first, until `needMb` is freed; undefined when even evicting
 * every idle one would not free enough. Ties go to the cheaper reload, then the larger model.
 */
export function chooseVictims(candidates: EvictionCandidate[], needMb: number): EvictionCandidate[] | undefined {
  if (needMb <= 0) return [];
  const idle = candidates
    .filter((c) => c.inFlight === 0)
    .sort((a, b) => keepScore(a) - keepScore(b) || a.reloadCostMs - b.reloadCostMs || b.sizeMb - a.sizeMb);
  const victims: EvictionCandidate[] = [];
  let freed = 0;
  for (const candidate of idle) {
    if (freed >= needMb) break;
    victims.push(candidate);
    freed += candidate.sizeMb;
  }
  return freed >= needMb ? victims : undefined;
}
