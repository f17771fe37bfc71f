import type { Attachment } from 'svelte/attachments';

/**
 * Briefly tints an element whose data just changed. Attachments re-run whenever their expression
 * is re-evaluated, i.e. on every new board, so a row that changes again flashes again.
 */
export function flash(changed: boolean): Attachment<HTMLElement> {
  return (node) => {
    if (!changed) return;
    node.animate([{ backgroundColor: 'var(--flash)' }, { backgroundColor: 'transparent' }], {
      duration: 2000,
      easing: 'ease-out',
    });
  };
}
