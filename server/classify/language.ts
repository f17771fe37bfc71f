import { franc } from 'franc-min';

/**
 * The prompt's language, by franc-min (trigram statistics, 82 languages, MIT, no network). Short
 * prompts are unreliable: below MIN_LENGTH characters the language is "und" (undetermined).
 */

const MIN_LENGTH = 20;
/** Trigram statistics settle long before this; longer prompts would only cost time. */
const MAX_LENGTH = 2_000;
const names = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

/** ISO 639-3 code, or "und". */
export function detectLanguage(text: string): string {
  return franc(text.slice(0, MAX_LENGTH), { minLength: MIN_LENGTH });
}

/** English name of an ISO 639-3 code ("eng" → "English"), as FastChat's `language` field holds it. */
export function languageName(code: string): string {
  if (code === 'und') return 'unknown';
  try {
    return names.of(code) ?? code;
  } catch {
    return code;
  }
}
