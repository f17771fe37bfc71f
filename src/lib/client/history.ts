/**
 * The leaderboard history chart's logic: daily board snapshots (GET /api/leaderboard/history)
 * turned into one series per model, and the SVG paths of each series' line and interval band.
 */

export interface SnapshotRow {
  model: string;
  rating: number;
  ciLow: number;
  ciHigh: number;
}

export interface Snapshot {
  day: string;
  rows: SnapshotRow[];
}

export interface Series {
  model: string;
  /** Index into `days` of each point, in day order. */
  points: { day: number; rating: number; ciLow: number; ciHigh: number }[];
}

export interface History {
  days: string[];
  series: Series[];
}

/**
 * One series per model, models in the order of the latest day's board (best first). `live`, the
 * board on screen, stands for its day: a stored snapshot of today may be up to an hour old.
 */
export function toHistory(stored: Snapshot[], live?: Snapshot): History {
  const snapshots = live && live.rows.length > 0 ? [...stored.filter((s) => s.day < live.day), live] : stored;
  const days = snapshots.map((s) => s.day);
  const byModel = new Map<string, Series>();
  snapshots.forEach((snapshot, day) => {
    for (const row of snapshot.rows) {
      let series = byModel.get(row.model);
      if (!series) byModel.set(row.model, (series = { model: row.model, points: [] }));
      series.points.push({ day, rating: row.rating, ciLow: row.ciLow, ciHigh: row.ciHigh });
    }
  });
  const latest = snapshots.at(-1)?.rows.map((r) => r.model) ?? [];
  const rank = (model: string) => (latest.includes(model) ? latest.indexOf(model) : latest.length);
  return { days, series: [...byModel.values()].sort((a, b) => rank(a.model) - rank(b.model)) };
}

/** "x,y x,y …" for an SVG polyline. */
export function linePoints(series: Series, x: (day: number) => number, y: (rating: number) => number): string {
  return series.points.map((p) => `${round(x(p.day))},${round(y(p.rating))}`).join(' ');
}

/** The interval band as a closed polygon: upper bounds left to right, lower bounds back. */
export function bandPoints(series: Series, x: (day: number) => number, y: (rating: number) => number): string {
  const upper = series.points.map((p) => `${round(x(p.day))},${round(y(p.ciHigh))}`);
  const lower = [...series.points].reverse().map((p) => `${round(x(p.day))},${round(y(p.ciLow))}`);
  return [...upper, ...lower].join(' ');
}

/** Distinct hues by golden-angle steps, so neighbours in the legend never look alike. */
export function seriesColor(index: number): string {
  return `hsl(${Math.round((index * 137.508) % 360)} 65% 48%)`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
