// The DOMPurify pass needs a DOM and is covered by the browser tests; this covers the markdown step.
import { describe, expect, it } from 'vitest';
import { escapeHtml, markdownToHtml, renderBlocks, renderMarkdown, splitBlocks, type RenderedBlock } from '../../src/lib/client/markdown.js';

describe('markdownToHtml', () => {
  it('renders GFM structure', () => {
    const html = markdownToHtml('# Title\n\n**bold** and ~~gone~~\n\n| a | b |\n|:-|-:|\n| 1 | 2 |\n\n- [x] done\n- [ ] todo');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<del>gone</del>');
    expect(html).toContain('<th align="left">a</th>');
    expect(html).toContain('<li>☑ done</li>');
    expect(html).toContain('<li>☐ todo</li>');
    expect(html).not.toContain('<input');
  });

  it('renders code blocks as pre/code, escaped', () => {
    expect(markdownToHtml('```js\nif (a < b) {}\n```')).toBe('<pre><code class="language-js">if (a &lt; b) {}\n</code></pre>\n');
  });

  it('renders an unclosed code fence while the answer is still streaming', () => {
    const html = markdownToHtml('Here:\n\n```python\nprint("hi")\nfor x in');
    expect(html).toContain('<p>Here:</p>');
    expect(html).toContain('<pre><code class="language-python">print(&quot;hi&quot;)\nfor x in');
    expect(html.trimEnd().endsWith('</code></pre>')).toBe(true);
  });

  it('keeps unfinished inline markup as text', () => {
    expect(markdownToHtml('ok `code` **bol')).toBe('<p>ok <code>code</code> **bol</p>\n');
  });

  it('shows raw HTML as text, block and inline', () => {
    const html = markdownToHtml('<div onclick="steal()">x</div>\n\nand <script>alert(1)</script> <img src=x onerror=alert(1)>');
    expect(html).not.toMatch(/<(div|script|img)\b/);
    expect(html).toContain('&lt;div onclick=&quot;steal()&quot;&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('keeps only http(s) and mailto links', () => {
    const html = markdownToHtml(
      '[a](https://example.com) [b](mailto:x@example.com) [c](javascript:alert(1)) [d](/admin) [e](data:text/html,x) <http://auto.example>',
    );
    expect(html).toContain('<a href="https://example.com">a</a>');
    expect(html).toContain('<a href="mailto:x@example.com">b</a>');
    expect(html).toContain('<a href="http://auto.example">http://auto.example</a>');
    expect(html).not.toMatch(/javascript:|data:|href="\/admin"/);
    expect(html).toMatch(/ c d e /);
  });

  it('turns images into links so no URL is fetched', () => {
    expect(markdownToHtml('![chart](https://example.com/c.png)')).toBe('<p><a href="https://example.com/c.png">chart</a></p>\n');
    expect(markdownToHtml('![x](javascript:alert(1))')).toBe('<p>x</p>\n');
    expect(markdownToHtml('![a"b](https://e.com/"onerror=x)')).not.toMatch(/<img|"onerror/);
  });
});

const SAMPLE = [
  '# Title',
  'Intro paragraph\nwith two lines.',
  '- a\n- b\n\n- loose c',
  '1. one\n\n   detail\n\n   ```sh\n   ls\n   ```\n2. two',
  '```js\nconst a = 1;\n\n\nconst b = 2;\n```',
  '| a | b |\n|:-|-:|\n| 1 | 2 |',
  '> quote\n> more',
  'Setext\n===',
  'The end.',
].join('\n\n');

describe('maths before KaTeX has loaded', () => {
  it('shows TeX as its source, inline and displayed, and escapes it', () => {
    expect(markdownToHtml('Euler: $e^{i\\pi} + 1 = 0$ holds.')).toBe('<p>Euler: <code class="math-source">$e^{i\\pi} + 1 = 0$</code> holds.</p>\n');
    expect(markdownToHtml('$$\n\\frac{a}{b} < c\n$$')).toBe('<p><code class="math-source">$$\\frac{a}{b} &lt; c$$</code></p>');
    expect(markdownToHtml('So \\(x^2\\) grows.')).toContain('<code class="math-source">$x^2$</code>');
  });

  it('leaves prices and lone dollars alone', () => {
    expect(markdownToHtml('It costs $5 and $10 today.')).toBe('<p>It costs $5 and $10 today.</p>\n');
    expect(markdownToHtml('A $ sign, and $ x $ spaced.')).not.toContain('math-source');
  });
});

describe('splitBlocks', () => {
  it('splits at top-level blocks and joins back into the source', () => {
    const blocks = splitBlocks(SAMPLE);
    expect(blocks.join('')).toBe(SAMPLE);
    expect(blocks).toHaveLength(9);
    expect(blocks[2]).toBe('- a\n- b\n\n- loose c\n\n'); // a loose list stays one block
    expect(blocks[4]).toMatch(/^```js[\s\S]*```\n\n$/); // blank lines inside a fence do not split it
  });
});

describe('renderBlocks', () => {
  /** Streams `text` in small chunks, as an answer arrives. */
  function stream(text: string, step: number, render: (source: string) => string): RenderedBlock[] {
    let blocks: RenderedBlock[] = [];
    for (let end = step; end < text.length + step; end += step) blocks = renderBlocks(text.slice(0, end), blocks, render);
    return blocks;
  }

  it('produces the same HTML as rendering the whole text at once, at any chunk size', () => {
    for (const step of [1, 3, 7, 40]) {
      const html = stream(SAMPLE, step, markdownToHtml).map((b) => b.html).join('');
      expect(html, `step ${step}`).toBe(markdownToHtml(SAMPLE));
    }
  });

  it('renders only the tail as text streams in', () => {
    const rendered: string[] = [];
    const render = (source: string) => (rendered.push(source), markdownToHtml(source));
    const blocks = stream(SAMPLE, 5, render);
    const renderedChars = rendered.reduce((sum, source) => sum + source.length, 0);
    expect(renderedChars).toBeLessThan(SAMPLE.length * 25); // near linear, not quadratic

    rendered.length = 0;
    renderBlocks(SAMPLE + ' More.', blocks, render);
    expect(rendered).toEqual(['Setext\n===\n\n', 'The end. More.']);
  });

  it('lets a half-typed list item join the list before it', () => {
    // While only "2" has arrived it reads as a paragraph after the list; "2." then joins the list.
    const text = '1. one\n\n   ```\n   x\n   ```\n2. two';
    expect(stream(text, 1, markdownToHtml).map((b) => b.html).join('')).toBe(markdownToHtml(text));
  });

  it('matches a one-shot render on assorted LLM-style markdown', () => {
    const text = [
      '## Plan\n\nSome text\n---\n\n* nested\n  * deeper\n    1. num\n\n***',
      '> quote with code:\n> ```\n> x = 1\n> ```\n\nAfter.',
      '| h1 | h2 |\n| --- | --- |\n| r1 | a |\n| r2 | b |\nNot a row?',
      '- [x] done\n- [ ] todo\n\n10. ten\n11. eleven\n\n~~~\ntilde fence\n~~~\n\n<b>raw</b> tail',
    ].join('\n\n');
    for (const step of [1, 2, 5, 11]) {
      expect(stream(text, step, markdownToHtml).map((b) => b.html).join(''), `step ${step}`).toBe(markdownToHtml(text));
    }
  });

  it('starts over when the text is replaced (regenerate)', () => {
    const first = renderBlocks('# A\n\nbody', [], markdownToHtml);
    const next = renderBlocks('Other', first, markdownToHtml);
    expect(next.map((b) => b.html).join('')).toBe('<p>Other</p>\n');
  });

  it('normalizes Windows line endings', () => {
    const blocks = renderBlocks('a\r\n\r\nb', [], markdownToHtml);
    expect(blocks.map((b) => b.source)).toEqual(['a\n\n', 'b']);
  });
});

describe('renderMarkdown without a DOM (SSR)', () => {
  it('returns the text escaped, never as markup', () => {
    expect(renderMarkdown('<b>x</b> & **y**')).toBe('<p class="plain">&lt;b&gt;x&lt;/b&gt; &amp; **y**</p>');
  });
});

describe('escapeHtml', () => {
  it('escapes every character that matters in text and attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });
});
