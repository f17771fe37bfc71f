// The DOMPurify pass needs a DOM and is covered by the browser tests; this covers the markdown step.
import { describe, expect, it } from 'vitest';
import { escapeHtml, markdownToHtml, renderMarkdown } from '../../src/lib/client/markdown.js';

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
