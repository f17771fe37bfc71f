/** The fuzz report as text. */
import type { FuzzReport } from './run.js';

export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  lines.push(`fuzz seed ${r.seed}: ${r.eventsSent} events in ${(r.durationMs / 1000).toFixed(1)} s (${r.eventsPerSecond}/s)`);
  lines.push(`  by kind: ${Object.entries(r.byKind).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  lines.push(
    `  acks: ${r.acks.ok} ok, errors ${Object.entries(r.acks.errors).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}; ` +
      `${r.acks.silentAsExpected} silent as expected, ${r.acks.unansweredAfterClose} cut by a closed connection, ${r.acks.unexpectedReplies} unexpected replies`,
  );
  lines.push(
    `  connections: ${r.connections.opened} opened, ${r.connections.closedByServer} closed by the server; connect errors: ${JSON.stringify(r.connections.connectErrors)}`,
  );
  lines.push(`  handshakes: ${Object.entries(r.handshakes).map(([k, v]) => `${k} ${v.connected}✓/${v.refused}✗`).join(', ') || 'none'}`);
  if (r.rss)
    lines.push(
      `  server RSS: start ${r.rss.startMb} MB, after warm-up ${r.rss.warmMb} MB, peak ${r.rss.peakMb} MB, end ${r.rss.endMb} MB: growth ${r.rss.growthPct} % (bound ${r.rss.boundPct} %, samples ${r.rss.method})` +
        (r.rss.heapWarmMb !== undefined ? `; V8 heap ${r.rss.heapWarmMb} → ${r.rss.heapEndMb} MB` : ''),
    );
  lines.push(`  server alive: ${r.alive ? 'yes' : 'NO'}; well-formed duel afterwards: ${r.afterCheck.ok ? 'ok' : 'FAILED'} (${r.afterCheck.ms} ms: ${r.afterCheck.detail})`);
  if (r.findingSummary.length === 0) lines.push('  findings: none');
  else {
    lines.push(`  findings (${r.findings.length}):`);
    for (const g of r.findingSummary.slice(0, 25)) {
      lines.push(`    [${g.type}] ×${g.count} ${g.detail}`);
      if (g.example.index !== undefined) lines.push(`        e.g. event #${g.example.index} ${g.example.kind}/${g.example.variant} ${g.example.event}: ${g.example.payload}`);
    }
  }
  lines.push(r.pass ? 'PASS' : 'FAIL');
  return lines.join('\n');
}
