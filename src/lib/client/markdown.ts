/**
 * Model output is untrusted: markdown is rendered with raw HTML escaped, then the result goes
 * through DOMPurify with a strict allow-list. Partial text (mid-stream) renders fine: an unclosed
 * code fence simply runs to the end of the text, as CommonMark specifies.
 */
import DOMPurify, { type Config } from 'dompurify';
import { Marked, type Renderer, type Tokens } from 'marked';

/** The only link targets an answer may carry. Relative links would point into the arena itself. */
const SAFE_URL = /^(?:https?:|mailto:)/i;

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    // Raw HTML in the model's answer is shown as text, never interpreted.
    html: ({ text, block }: Tokens.HTML | Tokens.Tag) => (block ? `<p>${escapeHtml(text)}</p>` : escapeHtml(text)),
    // `false` falls back to marked's own link rendering; unsafe targets keep only the link text.
    link(this: Renderer, { href, tokens }: Tokens.Link) {
      return SAFE_URL.test(href.trim()) ? false : this.parser.parseInline(tokens);
    },
    // Images would make the reader's browser fetch URLs chosen by the model: show a link instead.
    image: ({ href, text }: Tokens.Image) => {
      const label = escapeHtml(text || href);
      return SAFE_URL.test(href.trim()) ? `<a href="${escapeHtml(href)}">${label}</a>` : label;
    },
    // Task list checkboxes as plain glyphs: no form controls in answers.
    checkbox: ({ checked }: Tokens.Checkbox) => (checked ? '☑ ' : '☐ '),
  },
});

/** Markdown → HTML with raw HTML escaped. Not yet safe to insert: see `renderMarkdown`. */
export function markdownToHtml(text: string): string {
  return marked.parse(text, { async: false });
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const PURIFY_CONFIG: Config = {
  ALLOWED_TAGS: [
    'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'em', 'del', 's', 'code', 'pre',
    'blockquote', 'ul', 'ol', 'li', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  ],
  // `class` carries the code block language; `align` the table column alignment; `start` list numbering.
  ALLOWED_ATTR: ['href', 'title', 'class', 'align', 'start'],
  ALLOWED_URI_REGEXP: SAFE_URL,
  // DOMPurify checks any attribute not on its URI-safe list against ALLOWED_URI_REGEXP.
  ADD_URI_SAFE_ATTR: ['align', 'start'],
  ALLOW_DATA_ATTR: false,
  ALLOW_ARIA_ATTR: false,
};

let purifier: ReturnType<typeof DOMPurify> | undefined;

function getPurifier(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
  purifier.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName !== 'A') return;
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  });
  return purifier;
}

/** Strips everything outside the allow-list from untrusted HTML. Browser only (needs a DOM). */
export function sanitizeHtml(html: string): string {
  return getPurifier().sanitize(html, PURIFY_CONFIG);
}

/**
 * Untrusted markdown → HTML safe for `{@html}`. Needs a DOM: without one (SSR) the text is
 * returned escaped, as a single preformatted paragraph.
 */
export function renderMarkdown(text: string): string {
  if (typeof window === 'undefined') return `<p class="plain">${escapeHtml(text)}</p>`;
  return sanitizeHtml(markdownToHtml(text));
}

/** Top-level blocks of markdown, each with the blank lines after it; they join back into the source. */
export function splitBlocks(source: string): string[] {
  const blocks: string[] = [];
  for (const token of marked.lexer(source)) {
    if (token.type === 'space' && blocks.length > 0) blocks[blocks.length - 1] += token.raw;
    else blocks.push(token.raw);
  }
  return blocks;
}

export interface RenderedBlock {
  source: string;
  html: string;
}

/**
 * Renders a streaming answer block by block. Appending text changes the last top-level block, and
 * can join it to the one before (a half-typed "2" becomes a list's "2." item), but nothing earlier.
 * So every block of `previous` but the last two that the text still starts with is reused as is:
 * each update lexes, renders and sanitizes just the tail, and the page replaces just its DOM.
 * (Cost of the shortcut: a reference-style link definition applies only within its own block.)
 */
export function renderBlocks(
  text: string,
  previous: RenderedBlock[],
  render: (source: string) => string = renderMarkdown,
): RenderedBlock[] {
  // marked normalizes line endings when lexing; doing it first keeps block sources exact.
  const source = text.replace(/\r\n?/g, '\n');
  const blocks: RenderedBlock[] = [];
  let offset = 0;
  for (const block of previous.slice(0, -2)) {
    if (!source.startsWith(block.source, offset)) break;
    blocks.push(block);
    offset += block.source.length;
  }
  for (const part of splitBlocks(source.slice(offset))) blocks.push({ source: part, html: render(part) });
  return blocks;
}
