import { UNIT_SPELLINGS } from '../tools/units.js';

/** Regex building blocks shared by the routing rules (source strings, combined case-insensitively). */

/**
 * A number as people type it: 7, 1,245, 3.5, .5. Never starts inside another number: besides being
 * right, that keeps "1,1,1,…" from making every pattern quadratic.
 */
export const NUM = String.raw`(?<![\d.,])(?:\d+(?:[.,]\d+)*|\.\d+)`;
/** A number with an optional currency sign and magnitude: $1,200, 1.5 million. */
export const AMOUNT = String.raw`[$£€¥]?\s?${NUM}(?:\s?(?:k|thousand|million|billion|bn)\b)?`;
/** A sum of money: $40, 46 dollars. */
export const MONEY = String.raw`(?:[$£€¥]\s?${NUM}|${NUM}\s*(?:dollars?|euros?|pounds?|bucks?|usd|eur|gbp)\b)`;

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const alternatives = (words: readonly string[]): string => [...words].sort((a, b) => b.length - a.length).map(escape).join('|');

/**
 * Unit spellings the converter knows, minus those that are also everyday words or letters ("in",
 * "st", "d"); single letters (C, F, K, m, g…) are allowed only right after a number.
 */
const AMBIGUOUS_UNITS = new Set(['in', 'st', 'kt', 'wk']);
const UNIT_WORDS = UNIT_SPELLINGS.filter((name) => name.length > 1 && !AMBIGUOUS_UNITS.has(name));
const UNIT_LETTERS = UNIT_SPELLINGS.filter((name) => name.length === 1);

/** `\b` fails after symbols like km/h or °; a lookahead for a non-letter does not. */
const END = String.raw`(?![a-z])`;
export const UNIT = String.raw`(?:°\s*)?(?:deg(?:rees?)?\s+)?(?:${alternatives(UNIT_WORDS)})${END}`;
/** A unit right after a number, where single letters are unambiguous: "30 C", "5 m". */
export const UNIT_AFTER_NUMBER = String.raw`(?:°\s*)?(?:deg(?:rees?)?\s+)?(?:${alternatives([...UNIT_WORDS, ...UNIT_LETTERS])})${END}`;

const CURRENCY_NAMES = ['usd', 'eur', 'gbp', 'jpy', 'cny', 'chf', 'cad', 'aud', 'inr', 'mxn', 'btc', 'dollars?', 'euros?', 'yen', 'pounds?', 'pesos?', 'rupees?', 'francs?', 'yuan', 'bitcoin'];
export const CURRENCY = String.raw`(?:${CURRENCY_NAMES.join('|')})\b`;

export const MONTHS = 'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
export const WEEKDAYS = '(?:mon|tues|wednes|thurs|fri|satur|sun)day';
const SEASONS = 'summer|winter|spring|autumn';
export const HOLIDAYS = "christmas(?:\\s+eve|\\s+day)?|xmas(?:\\s+eve)?|halloween|thanksgiving|easter(?:\\s+sunday)?|new\\s+year(?:'?s)?(?:\\s+(?:eve|day))?|valentine'?s(?:\\s+day)?|(?:the\\s+)?fourth\\s+of\\s+july|independence\\s+day|memorial\\s+day|labou?r\\s+day";
/** Something a calendar can place: a number, a month or weekday, a holiday, today/now… */
export const DATE_LIKE = String.raw`(?:${NUM}|(?:${MONTHS})\b|${WEEKDAYS}|${HOLIDAYS}|${SEASONS}|today|tomorrow|tonight|now|midnight|noon|the\s+weekend|the\s+end\s+of|my\s+(?:birthday|due\s+date)|(?:next|this|last)\s+\w+)`;
