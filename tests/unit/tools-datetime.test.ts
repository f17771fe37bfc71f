import { describe, expect, it } from 'vitest';
import { createDatetimeTool } from '../../server/tools/datetime.js';

/** 22:30 UTC on Monday 14 July 2025: already Tuesday in Paris and Kolkata. */
const NOW = new Date('2025-07-14T22:30:00Z');
const tool = createDatetimeTool({ now: () => NOW });
const run = (args: Record<string, unknown>) => tool.handler(tool.schema.parse(args), { signal: new AbortController().signal });

describe('datetime tool: now', () => {
  it('defaults to UTC', async () => {
    expect(await run({})).toEqual({
      timeZone: 'UTC',
      date: '2025-07-14',
      time: '22:30:00',
      weekday: 'Monday',
      utcOffset: '+00:00',
      iso: '2025-07-14T22:30:00+00:00',
    });
  });

  it.each([
    ['Europe/Paris', '2025-07-15', '00:30:00', 'Tuesday', '+02:00'],
    ['America/New_York', '2025-07-14', '18:30:00', 'Monday', '-04:00'],
    ['Asia/Kolkata', '2025-07-15', '04:00:00', 'Tuesday', '+05:30'],
  ])('gives the wall clock in %s', async (timeZone, date, time, weekday, utcOffset) => {
    expect(await run({ timeZone })).toMatchObject({ timeZone, date, time, weekday, utcOffset, iso: `${date}T${time}${utcOffset}` });
  });

  it('follows daylight saving time', async () => {
    const winter = createDatetimeTool({ now: () => new Date('2025-01-15T12:00:00Z') });
    const result = await winter.handler(winter.schema.parse({ timeZone: 'Europe/Paris' }), { signal: new AbortController().signal });
    expect(result).toMatchObject({ time: '13:00:00', utcOffset: '+01:00' });
  });

  it('names the problem and a valid example for an unknown zone', async () => {
    await expect(run({ timeZone: 'Mars/Olympus_Mons' })).rejects.toThrow('unknown time zone "Mars/Olympus_Mons": use an IANA name such as "UTC"');
  });
});

describe('datetime tool: difference', () => {
  it('counts whole days between calendar dates, across a leap day', async () => {
    expect(await run({ action: 'difference', from: '2024-02-01', to: '2024-03-01' })).toEqual({ from: '2024-02-01', to: '2024-03-01', days: 29, weeks: 4.14 });
  });

  it('counts from today in the requested zone when "from" is left out', async () => {
    expect(await run({ action: 'difference', to: '2025-12-25' })).toMatchObject({ from: '2025-07-14', days: 164 });
    expect(await run({ action: 'difference', to: '2025-12-25', timeZone: 'Europe/Paris' })).toMatchObject({ from: '2025-07-15', days: 163 });
  });

  it('measures exact spans between instants, negative when "to" comes first', async () => {
    expect(await run({ action: 'difference', from: '2025-01-01T00:00:00Z', to: '2025-01-02T12:00:00+00:00' })).toMatchObject({ days: 1.5 });
    expect(await run({ action: 'difference', from: '2025-03-10', to: '2025-03-03' })).toMatchObject({ days: -7, weeks: -1 });
    expect(await run({ action: 'difference', from: 'now', to: '2025-07-15T22:30:00Z' })).toMatchObject({ from: NOW.toISOString(), days: 1 });
  });

  it('rejects dates it cannot read, and impossible ones', async () => {
    await expect(run({ action: 'difference', to: 'next tuesday' })).rejects.toThrow('cannot read the date "next tuesday": use YYYY-MM-DD');
    await expect(run({ action: 'difference', to: '2025-02-30' })).rejects.toThrow('"2025-02-30" is not a real calendar date');
    await expect(run({ action: 'difference', to: '2025-01-01T10:00' })).rejects.toThrow(/cannot read the date/);
  });
});

describe('datetime tool: add', () => {
  it('adds and subtracts days on calendar dates, with the weekday', async () => {
    expect(await run({ action: 'add', from: '2024-02-28', days: 1 })).toEqual({ from: '2024-02-28', days: 1, date: '2024-02-29', weekday: 'Thursday' });
    expect(await run({ action: 'add', days: 100 })).toMatchObject({ from: '2025-07-14', date: '2025-10-22', weekday: 'Wednesday' });
    expect(await run({ action: 'add', from: '1969-07-20', days: 0 })).toMatchObject({ weekday: 'Sunday' });
    expect(await run({ action: 'add', from: '2025-01-01', days: -1 })).toMatchObject({ date: '2024-12-31' });
  });

  it('needs a day count and a calendar date', async () => {
    await expect(run({ action: 'add' })).rejects.toThrow('action "add" needs "days"');
    await expect(run({ action: 'add', from: 'now', days: 2 })).rejects.toThrow(/works on calendar dates/);
  });
});

describe('datetime tool: full years and the supported range', () => {
  it('reads years 0001–0099 as written, not as 1901–1999', async () => {
    expect(await run({ action: 'add', from: '0050-03-01', days: 1 })).toEqual({ from: '0050-03-01', days: 1, date: '0050-03-02', weekday: 'Wednesday' });
    expect(await run({ action: 'difference', from: '0001-01-01', to: '0002-01-01' })).toMatchObject({ from: '0001-01-01', to: '0002-01-01', days: 365 });
    // 1 January 1 was a Monday in the proleptic Gregorian calendar.
    expect(await run({ action: 'add', from: '0001-01-01', days: 0 })).toMatchObject({ date: '0001-01-01', weekday: 'Monday' });
    expect(await run({ action: 'difference', from: '0099-12-31', to: '0100-01-01' })).toMatchObject({ days: 1 });
  });

  it('writes four-digit years with their day, up to 9999-12-31', async () => {
    expect(await run({ action: 'add', from: '9999-12-30', days: 1 })).toEqual({ from: '9999-12-30', days: 1, date: '9999-12-31', weekday: 'Friday' });
    expect(await run({ action: 'add', from: '2025-07-14', days: -700_000 })).toMatchObject({ date: '0108-12-31', weekday: 'Monday' });
  });

  it.each([
    [{ action: 'add', from: '9999-12-31', days: 1 }, '9999-12-31 + 1 days is outside the supported range 0001-01-01 to 9999-12-31'],
    [{ action: 'add', from: '9000-01-01', days: 1_000_000 }, '9000-01-01 + 1000000 days is outside the supported range 0001-01-01 to 9999-12-31'],
    [{ action: 'add', from: '0001-01-01', days: -1 }, '0001-01-01 - 1 days is outside the supported range'],
    [{ action: 'difference', from: '0000-06-15', to: 'today' }, '"0000-06-15" is outside the supported range'],
    [{ action: 'difference', from: '0001-01-01T00:30:00+01:00' }, 'is outside the supported range'],
  ])('gives a typed error outside the range: %o', async (args, message) => {
    const failure = run(args);
    await expect(failure).rejects.toThrow(message);
    await expect(failure).rejects.toBeInstanceOf(RangeError);
    await expect(failure).rejects.toMatchObject({ name: 'DateOutOfRangeError' });
  });
});
