/**
 * Splits `<think>…</think>` out of streamed content. Tags may arrive cut anywhere across chunks,
 * so a chunk's tail that could still become a tag is held back until the next chunk decides.
 * Reasoning models put a blank line after a leading think block (`</think>\n\n`): that
 * separator is dropped so the answer text starts with the answer.
 */

export interface ThinkPiece {
  type: 'text' | 'reasoning';
  text: string;
}

const OPEN = '<think>';
const CLOSE = '</think>';

export class ThinkTagSplitter {
  private inThink = false;
  private held = '';
  private textSeen = false;
  private afterLeadingThink = false;

  push(chunk: string): ThinkPiece[] {
    const pieces: ThinkPiece[] = [];
    let rest = this.held + chunk;
    this.held = '';
    for (;;) {
      const tag = this.inThink ? CLOSE : OPEN;
      const at = rest.indexOf(tag);
      if (at >= 0) {
        this.emit(pieces, rest.slice(0, at));
        if (this.inThink && !this.textSeen) this.afterLeadingThink = true;
        this.inThink = !this.inThink;
        rest = rest.slice(at + tag.length);
        continue;
      }
      const keep = partialTagSuffix(rest, tag);
      this.emit(pieces, rest.slice(0, rest.length - keep));
      this.held = rest.slice(rest.length - keep);
      return pieces;
    }
  }

  /** End of stream: whatever was held back is plain content after all. */
  flush(): ThinkPiece[] {
    const pieces: ThinkPiece[] = [];
    this.emit(pieces, this.held);
    this.held = '';
    return pieces;
  }

  private emit(pieces: ThinkPiece[], text: string): void {
    if (this.inThink) {
      if (text) pieces.push({ type: 'reasoning', text });
      return;
    }
    const answer = this.afterLeadingThink ? text.trimStart() : text;
    if (!answer) return;
    this.afterLeadingThink = false;
    this.textSeen = true;
    pieces.push({ type: 'text', text: answer });
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `tag`. */
function partialTagSuffix(text: string, tag: string): number {
  for (let len = Math.min(tag.length - 1, text.length); len > 0; len--) {
    if (text.endsWith(tag.slice(0, len))) return len;
  }
  return 0;
}
