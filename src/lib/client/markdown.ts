/**
 * Model output is untrusted: markdown is rendered with raw HTML escaped, then the result goes
 * through DOMPurify with a strict allow-list. Partial text (mid-stream) renders fine: an unclosed
 * code fence simply runs to the end of the text, as CommonMark specifies.
 *
 * Highlighting (highlight.js) and maths (KaTeX) load on demand, the first time an answer needs
 * them (`loadExtrasFor`); until then code shows plain and TeX as its source. Their output goes
 * through the same sanitizer. After sanitizing, tables and code blocks get their frame (a
 * keyboard-scrollable region; a language chip and a Copy button), built by this module, not by
 * the model.
 */
import DOMPurify, { type Config } from 'dompurify';
import { Marked, type Renderer, type TokenizerAndRendererExtension, type Tokens } from 'marked';

/** The renderers loaded on demand; absent until their module has loaded. */
const extras: {
  highlight?: (code: string, language: string) => string | undefined;
  math?: (tex: string, display: boolean) => string;
} = {};
let highlightLoad: Promise<void> | undefined;
let mathLoad: Promise<void> | undefined;

const HAS_CODE = /^ {0,3}(```|~~~)/m;
const HAS_MATH = /\$\$[\s\S]+?\$\$|\$(?![\s$])(?:\\.|[^\\$\n])+?(?<!\s)\$(?!\d)|\\\(|\\\[/;

/**
 * Starts loading what `text` needs. Resolves true once something new has loaded (answers already
 * rendered must then be rendered again), false when nothing was missing.
 */
export async function loadExtrasFor(text: string): Promise<boolean> {
  const loads: Promise<void>[] = [];
  if (!highlightLoad && HAS_CODE.test(text)) {
    loads.push((highlightLoad = import('./highlight').then((m) => void (extras.highlight = m.highlight))));
  }
  if (!mathLoad && HAS_MATH.test(text)) {
    loads.push((mathLoad = import('./math').then((m) => void (extras.math = m.renderMath))));
  }
  if (loads.length === 0) return false;
  await Promise.all(loads);
  return true;
}

function renderTex(tex: string, display: boolean): string {
  if (extras.math) return extras.math(tex, display);
  const source = escapeHtml(display ? `$$${tex}$$` : `$${tex}$`);
  return display ? `<p><code class="math-source">${source}</code></p>` : `<code class="math-source">${source}</code>`;
}

/** `$$…$$` / `\[…\]` on their own, and `$…$` / `\(…\)` inline. A `$` before a digit is a price. */
const MATH_EXTENSIONS: TokenizerAndRendererExtension[] = [
  {
    name: 'mathBlock',
    level: 'block',
    start: (src) => src.match(/\$\$|\\\[/)?.index,
    tokenizer(src) {
      const match = /^ {0,3}(?:\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\])[ \t]*(?:\n+|$)/.exec(src);
      if (match) return { type: 'mathBlock', raw: match[0], text: (match[1] ?? match[2]!).trim() };
    },
    renderer: (token) => renderTex(token.text as string, true),
  },
  {
    name: 'mathInline',
    level: 'inline',
    start: (src) => src.match(/\$|\\\(/)?.index,
    tokenizer(src) {
      const match = /^\$\$([^$]+?)\$\$/.exec(src) ?? /^\$(?![\s$])((?:\\.|[^\\$\n])+?)(?<!\s)\$(?!\d)/.exec(src) ?? /^\\\((.+?)\\\)/.exec(src);
      if (match) return { type: 'mathInline', raw: match[0], text: match[1]!.trim() };
    },
    renderer: (token) => renderTex(token.text as string, false),
  },
];

/** The only link targets an answer may carry. Relative links would point into the arena itself. */
const SAFE_URL = /^(?:https?:|mailto:)/i;

const marked = new Marked({
  gfm: true,
  async: false,
  extensions: MATH_EXTENSIONS,
  renderer: {
    // `false` keeps marked's own pre/code until highlight.js has loaded (or for unknown languages).
    code({ text, lang }: Tokens.Code) {
      const language = (lang ?? '').match(/^[\w+#-]+/)?.[0] ?? '';
      const highlighted = extras.highlight?.(text, language.toLowerCase());
      return highlighted === undefined ? false : `<pre><code class="hljs language-${language}">${highlighted}\n</code></pre>\n`;
    },
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

/** What KaTeX writes: HTML spans for sight, MathML for screen readers, SVG for some stretchy glyphs. */
const MATH_TAGS = [
  'span', 'math', 'semantics', 'annotation', 'mrow', 'mi', 'mo', 'mn', 'ms', 'mtext', 'mspace', 'msup', 'msub',
  'msubsup', 'mfrac', 'msqrt', 'mroot', 'mover', 'munder', 'munderover', 'mtable', 'mtr', 'mtd', 'mstyle',
  'mpadded', 'mphantom', 'menclose', 'svg', 'path', 'line',
];
const MATH_ATTRS = [
  'style', 'aria-hidden', 'xmlns', 'encoding', 'mathvariant', 'stretchy', 'fence', 'separator', 'lspace', 'rspace',
  'width', 'height', 'viewbox', 'preserveaspectratio', 'd', 'columnalign', 'rowspacing', 'columnspacing',
  'displaystyle', 'scriptlevel', 'accent', 'accentunder', 'minsize', 'maxsize', 'movablelimits', 'linethickness',
  'notation', 'x1', 'x2', 'y1', 'y2', 'stroke-width', 'display',
];

const PURIFY_CONFIG: Config = {
  ALLOWED_TAGS: [
    'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'strong', 'em', 'del', 's', 'code', 'pre',
    'blockquote', 'ul', 'ol', 'li', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td', ...MATH_TAGS,
  ],
  // `class` carries the code block language and highlight.js's token kinds; `align` the table column
  // alignment; `start` list numbering; the rest is KaTeX's layout. The model cannot write any of it:
  // its raw HTML is escaped before this point, so these come only from marked, highlight.js and KaTeX.
  ALLOWED_ATTR: ['href', 'title', 'class', 'align', 'start', ...MATH_ATTRS],
  ALLOWED_URI_REGEXP: SAFE_URL,
  // DOMPurify checks any attribute not on its URI-safe list against ALLOWED_URI_REGEXP.
  ADD_URI_SAFE_ATTR: ['align', 'start', ...MATH_ATTRS],
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
  return frame(sanitizeHtml(markdownToHtml(text)));
}

/**
 * Wraps sanitized HTML's tables and code blocks: each scrolls inside a focusable element (so the
 * keyboard reaches what is off to the side, and no cell breaks mid-word; a table's is a named group,
 * not a region landmark, which two answers side by side would repeat); code blocks get a
 * language chip and a Copy button (handled by the Markdown component).
 */
export function frame(html: string): string {
  if (!/<(table|pre)[\s>]/.test(html)) return html;
  const template = document.createElement('template');
  template.innerHTML = html;
  for (const table of template.content.querySelectorAll('table')) {
    const region = wrap(table, 'table-scroll');
    region.tabIndex = 0;
    region.setAttribute('role', 'group');
    region.setAttribute('aria-label', 'Table');
  }
  for (const pre of template.content.querySelectorAll('pre')) {
    const language = pre.querySelector('code')?.className.match(/language-([\w+#-]+)/)?.[1] ?? '';
    const block = wrap(pre, 'code-block');
    const head = document.createElement('div');
    head.className = 'code-head';
    const chip = document.createElement('span');
    chip.className = 'code-lang';
    chip.textContent = language || 'code';
    const copy = document.createElement('button');
    copy.type = 'button';
    copy.className = 'code-copy';
    copy.textContent = 'Copy';
    copy.setAttribute('aria-label', `Copy ${language || 'code'}`);
    head.append(chip, copy);
    block.prepend(head);
    pre.tabIndex = 0;
  }
  return template.innerHTML;
}

function wrap(element: Element, className: string): HTMLDivElement {
  const wrapper = document.createElement('div');
  wrapper.className = className;
  element.replaceWith(wrapper);
  wrapper.append(element);
  return wrapper;
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
