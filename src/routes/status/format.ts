/** Pure formatting for the status page. */

export function formatMb(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GiB` : `${Math.round(mb)} MiB`;
}

/** "3 s ago", "2 min ago"; `now` is passed in so the page can tick it. */
export function formatAgo(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

export function formatRate(perMinute: number): string {
  return perMinute >= 10 ? perMinute.toFixed(0) : perMinute.toFixed(2);
}

/** Share of the budget in use, 0–100, for the memory bar. */
export function percentUsed(usedMb: number, budgetMb: number): number {
  return budgetMb > 0 ? Math.min(100, Math.round((usedMb / budgetMb) * 100)) : 0;
}
