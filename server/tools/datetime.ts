import { z } from 'zod';
import { defineTool } from './tool.js';

/**
 * Dates and times, all through Intl (no date library): the current date and time in an IANA
 * time zone, the span between two dates, and a date plus or minus some days. Calendar dates
 * (YYYY-MM-DD) count whole days; "today" is the calendar date in the requested time zone.
 */

const DAY_MS = 86_400_000;
const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A calendar date (days since the epoch, no time of day) or an exact instant. */
type Point = { kind: 'date'; day: number } | { kind: 'instant'; ms: number };

interface WallClock {
  timeZone: string;
  date: string;
  time: string;
  weekday: string;
  utcOffset: string;
  iso: string;
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      weekday: 'long',
      timeZoneName: 'longOffset',
    });
  } catch {
    throw new Error(`unknown time zone "${timeZone}": use an IANA name such as "UTC", "Europe/Paris" or "America/New_York"`);
  }
}

/** The wall clock of `instant` in `timeZone`. */
function wallClock(instant: Date, timeZone: string): WallClock {
  const formatter = formatterFor(timeZone);
  const parts = Object.fromEntries(formatter.formatToParts(instant).map((part) => [part.type, part.value]));
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const time = `${parts.hour}:${parts.minute}:${parts.second}`;
  // longOffset renders UTC itself as a bare "GMT".
  const utcOffset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace('GMT', '');
  return { timeZone, date, time, weekday: String(parts.weekday), utcOffset, iso: `${date}T${time}${utcOffset}` };
}

/** Calendar dates the tool reads and writes (proleptic Gregorian, four-digit years). */
const FIRST_DAY = utcDay(1, 1, 1);
const LAST_DAY = utcDay(9999, 12, 31);
const RANGE = '0001-01-01 to 9999-12-31';

/** Days since the epoch, with the year taken as written: Date.UTC would turn years 0–99 into 1900–1999. */
function utcDay(year: number, month: number, day: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime() / DAY_MS;
}

/** A date outside what the tool supports: a RangeError the model reads as the tool's error. */
export class DateOutOfRangeError extends RangeError {
  constructor(what: string) {
    super(`${what} is outside the supported range ${RANGE}`);
    this.name = 'DateOutOfRangeError';
  }
}

function checkRange(day: number, what: () => string): number {
  if (day < FIRST_DAY || day > LAST_DAY) throw new DateOutOfRangeError(what());
  return day;
}

function parseCalendarDate(text: string): number | undefined {
  const match = CALENDAR_DATE.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const days = utcDay(year, month, day);
  const roundTrip = new Date(days * DAY_MS);
  // setUTCFullYear rolls 2025-02-30 over to March; a real date survives the round trip.
  if (roundTrip.getUTCMonth() !== month - 1 || roundTrip.getUTCDate() !== day) throw new Error(`"${text}" is not a real calendar date`);
  return checkRange(days, () => `"${text}"`);
}

function parsePoint(text: string | undefined, today: number, now: number): Point {
  const value = (text ?? 'today').trim();
  if (value.toLowerCase() === 'today') return { kind: 'date', day: today };
  if (value.toLowerCase() === 'now') return { kind: 'instant', ms: now };
  const day = parseCalendarDate(value);
  if (day !== undefined) return { kind: 'date', day };
  if (DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) {
    const ms = Date.parse(value);
    checkRange(Math.floor(ms / DAY_MS), () => `"${value}"`);
    return { kind: 'instant', ms };
  }
  throw new Error(`cannot read the date "${value}": use YYYY-MM-DD, an ISO 8601 date-time with offset (2025-01-31T09:30:00+01:00), "today" or "now"`);
}

/** Calendar dates mixed with instants count from 00:00 UTC of that date. */
const toMs = (point: Point): number => (point.kind === 'date' ? point.day * DAY_MS : point.ms);
/** YYYY-MM-DD with the full year (toISOString writes year 10000 as "+010000"). */
function isoDate(day: number): string {
  const date = new Date(day * DAY_MS);
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
}
const weekdayOf = (day: number): string => new Intl.DateTimeFormat('en-US', { weekday: 'long', timeZone: 'UTC' }).format(day * DAY_MS);
const describePoint = (point: Point): string => (point.kind === 'date' ? isoDate(point.day) : new Date(point.ms).toISOString());
const twoDecimals = (value: number): number => Math.round(value * 100) / 100;

export interface DatetimeToolOptions {
  /** The clock; tests pin it. */
  now?: () => Date;
}

export function createDatetimeTool(options: DatetimeToolOptions = {}) {
  const clock = options.now ?? (() => new Date());
  return defineTool({
    name: 'datetime',
    description:
      'Dates and times. action "now": the current date, time, weekday and UTC offset in a time zone. ' +
      'action "difference": days between "from" and "to". action "add": the date "days" after "from". ' +
      'Dates are YYYY-MM-DD, ISO 8601 date-times with offset, "today" (the default) or "now".',
    schema: z.object({
      action: z.enum(['now', 'difference', 'add']).default('now'),
      timeZone: z.string().default('UTC').describe('IANA time zone, e.g. "Europe/Paris"; decides what "today" is'),
      from: z.string().optional().describe('difference/add: start date, default today'),
      to: z.string().optional().describe('difference: end date, default today'),
      days: z.number().int().min(-1_000_000).max(1_000_000).optional().describe('add: days to add (negative goes back)'),
    }),
    timeoutMs: 1_000,
    handler: async ({ action, timeZone, from, to, days }) => {
      const now = clock();
      const clockThere = wallClock(now, timeZone);
      if (action === 'now') return clockThere;
      const today = parseCalendarDate(clockThere.date)!;
      const start = parsePoint(from, today, now.getTime());
      if (action === 'add') {
        if (days === undefined) throw new Error('action "add" needs "days"');
        if (start.kind !== 'date') throw new Error('action "add" works on calendar dates (YYYY-MM-DD or "today")');
        const day = checkRange(start.day + days, () => `${isoDate(start.day)} ${days < 0 ? '-' : '+'} ${Math.abs(days)} days`);
        return { from: isoDate(start.day), days, date: isoDate(day), weekday: weekdayOf(day) };
      }
      const end = parsePoint(to, today, now.getTime());
      const spanDays = (toMs(end) - toMs(start)) / DAY_MS;
      return { from: describePoint(start), to: describePoint(end), days: twoDecimals(spanDays), weeks: twoDecimals(spanDays / 7) };
    },
  });
}

export const datetime = createDatetimeTool();
