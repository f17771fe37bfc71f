/**
 * The leaderboard page's logic outside its components: the live subscription, and pure helpers
 * for formatting, the heat map's colour scale and the rating chart's axis.
 */
import type { Leaderboard } from '$shared/protocol';
import { call, follow } from './socket';

/** The protocol re-exports only the board; its row type is derived here for the components. */
export type LeaderboardRow = Leaderboard['rows'][number];

// ---------------------------------------------------------------- live subscription

export interface LeaderboardFeed {
  board(board: Leaderboard): void;
  error(message: string): void;
  connection(connected: boolean): void;
}

/**
 * Follows the board for one tie setting until the returned function is called. Subscribes again
 * after every reconnect, because the server's new socket is in no room. The socket stays in the
 * other setting's room after a toggle (there is no unsubscribe), so its pushes are dropped here.
 */
export function followLeaderboard(excludeTies: boolean, feed: LeaderboardFeed, category = 'overall'): () => void {
  let following = true;
  const accept = (board: Leaderboard) => {
    if (following && board.excludeTies === excludeTies && board.category === category) feed.board(board);
  };
  const subscribe = async () => {
    const res = await call('leaderboard:subscribe', { excludeTies, category });
    if (!following) return;
    if (res.ok) accept(res.board);
    else feed.error(res.error.message);
  };
  // Subscribes only once connected: a buffered emit plus the connect handler would subscribe twice.
  const off = follow(
    { 'leaderboard:update': accept },
    {
      connected: () => {
        feed.connection(true);
        void subscribe();
      },
      disconnected: () => feed.connection(false),
      refused: (message) => feed.error(message),
    },
  );
  return () => {
    following = false;
    off();
  };
}

/**
 * Whether `next` should replace `current`. A subscribe ack can arrive after a newer push for the
 * same setting (the socket joins the room before the board is read), so an older board is dropped.
 */
export function supersedes(next: Leaderboard, current: Leaderboard | undefined): boolean {
  return !current || !sameBoard(current, next) || next.computedAt >= current.computedAt;
}

/**
 * Models that took part in votes since the previous board of the same setting: these get
 * highlighted. Not "rating changed": every vote moves every Bradley-Terry rating a little.
 */
export function changedModels(previous: Leaderboard | undefined, next: Leaderboard): Set<string> {
  if (!previous || !sameBoard(previous, next)) return new Set();
  const votesBefore = new Map(previous.rows.map((row) => [row.model, row.votes]));
  return new Set(next.rows.filter((row) => votesBefore.get(row.model) !== row.votes).map((row) => row.model));
}

function sameBoard(a: Leaderboard, b: Leaderboard): boolean {
  return a.excludeTies === b.excludeTies && a.category === b.category;
}

// ---------------------------------------------------------------- formatting

const MINUS = '\u2212';

export function formatRating(value: number): string {
  return signed(Math.round(value), '', MINUS);
}

/** The 95% interval as offsets from the rating, e.g. "+12 / −15". */
export function formatInterval(row: Pick<LeaderboardRow, 'rating' | 'ciLow' | 'ciHigh'>): string {
  return `${offset(row.ciHigh - row.rating)} / ${offset(row.ciLow - row.rating)}`;
}

export function formatPercent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Local wall-clock time, HH:MM:SS. */
export function formatClock(timestamp: number): string {
  const at = new Date(timestamp);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

export function formatCounts(board: Pick<Leaderboard, 'countedVotes' | 'totalVotes'>): string {
  const noun = board.countedVotes === 1 ? 'vote' : 'votes';
  return `${board.countedVotes} ${noun} counted of ${board.totalVotes}`;
}

/** Hover text for one heat-map cell: row model against column model. */
export function matchupTitle(board: Leaderboard, row: number, column: number): string {
  const [model, opponent] = [board.models[row], board.models[column]];
  const battles = board.battles[row][column];
  const rate = board.winRate[row][column];
  const played = `${battles} ${battles === 1 ? 'battle' : 'battles'}`;
  if (rate === null) return `${model} vs ${opponent}: no decisive battles (${played})`;
  return `${model} won ${formatPercent(rate)} of decisive battles against ${opponent} (${played})`;
}

/** Shortens a model id to `max` characters with an ellipsis; the full id goes in a title. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

function offset(delta: number): string {
  return signed(Math.round(delta), '+', MINUS, '±');
}

function signed(value: number, plus: string, minus: string, zero = plus): string {
  if (value === 0) return `${zero}0`;
  return value > 0 ? `${plus}${value}` : `${minus}${-value}`;
}

// ---------------------------------------------------------------- heat-map colour scale

/**
 * Diverging scale around 0.5: the further from an even record, the more of the end colour is
 * mixed into the neutral middle. The colours are CSS variables so each colour scheme sets its own.
 */
export function heatColor(rate: number | null): string {
  if (rate === null) return 'var(--heat-none)';
  const end = rate >= 0.5 ? 'var(--heat-high)' : 'var(--heat-low)';
  return `color-mix(in oklab, ${end} ${Math.round(heatStrength(rate) * 100)}%, var(--heat-mid))`;
}

/** 0 at an even record, 1 at 0% or 100%. */
export function heatStrength(rate: number): number {
  return Math.min(1, Math.abs(rate - 0.5) * 2);
}

// ---------------------------------------------------------------- rating axis

export interface Axis {
  min: number;
  max: number;
  ticks: number[];
}

/** Smallest 1, 2 or 5 × 10^k step at least `raw`. */
export function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].find((factor) => factor * magnitude >= raw * (1 - 1e-9))!;
  return step * magnitude;
}

/**
 * An axis covering every value, widened to whole steps so the ends carry tick labels. Values that
 * all coincide (one model, or no bootstrap spread) get a span of `minSpan` around them.
 */
export function ratingAxis(values: number[], targetTicks = 4, minSpan = 20): Axis {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < minSpan) {
    const middle = (low + high) / 2;
    [low, high] = [middle - minSpan / 2, middle + minSpan / 2];
  }
  const step = niceStep((high - low) / targetTicks);
  const min = Math.floor(low / step) * step;
  const max = Math.ceil(high / step) * step;
  const ticks = Array.from({ length: Math.round((max - min) / step) + 1 }, (_, i) => min + i * step);
  return { min, max, ticks };
}

/** Where a value falls along the axis, 0 at `min` to 1 at `max`. */
export function axisFraction(value: number, axis: Axis): number {
  return (value - axis.min) / (axis.max - axis.min);
}
