/**
 * TeX math in answers, rendered by KaTeX, loaded on demand (the first answer with `$…$` or
 * `\(…\)` pulls it in, with its stylesheet and fonts, which Vite serves from this origin as the
 * CSP requires). Output is HTML for sight plus MathML for screen readers; it still goes through
 * the sanitizer. Bad TeX renders as the source in an error colour instead of throwing.
 */
import katex from 'katex';
import 'katex/dist/katex.min.css';

export function renderMath(tex: string, display: boolean): string {
  return katex.renderToString(tex, {
    displayMode: display,
    throwOnError: false,
    output: 'htmlAndMathml',
    // No \href, \url, \htmlClass and the like: model output decides nothing beyond the maths.
    trust: false,
    strict: 'ignore',
    maxSize: 20,
    maxExpand: 500,
  });
}
