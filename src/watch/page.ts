/**
 * The status page: one self-contained HTML file (inline CSS and SVG, no script, no link to
 * anything), readable on a phone at night. Pure: report in, text out; every value escaped.
 */
import type { ChangeEntry, CheckReport } from './report.js';

const h = (v: string | number | null | undefined) =>
  String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const when = (iso: string | null) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—');
const DAY_MS = 24 * 3600 * 1000;

const CSS = `
body{font:16px/1.4 system-ui,sans-serif;margin:0;background:#111;color:#eee}
main{max-width:60em;margin:auto;padding:.5em}
h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.1em;margin:1em 0 .3em;border-bottom:1px solid #444}
.state{padding:.6em .8em;border-radius:.4em;font-size:1.4em;font-weight:bold}
.ok{background:#1d5e2a}.bad{background:#8a1c1c}.muted{color:#aaa;font-size:.9em}
table{border-collapse:collapse;width:100%}td,th{padding:.25em .4em;text-align:left;border-bottom:1px solid #333;vertical-align:top}
.scroll{overflow-x:auto}code{background:#222;padding:0 .2em;border-radius:.2em;word-break:break-all}
.up{color:#6c6}.down{color:#f66}li{margin:.3em 0}svg{width:100%;height:auto;background:#1a1a1a}`;

export function pageHtml(r: CheckReport): string {
  const state = r.ok ? 'healthy' : `${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>webtree ${h(r.host)}: ${h(state)}</title>
<style>${CSS}</style></head>
<body><main>
<h1>webtree on ${h(r.host)}</h1>
<div id="state" class="state ${r.ok ? 'ok' : 'bad'}">${r.ok ? 'HEALTHY' : `PROBLEM: ${h(state)}`}</div>
<p class="muted">checked ${h(when(r.checkedAt))} · site file <code>${h(r.site)}</code> · probes ${h(r.probeSeconds.toFixed(2))} s</p>
${findings(r)}
<h2>Database</h2>
<p>active server: <b id="active">${h(r.active ?? '(none)')}</b></p>
<div class="scroll"><table id="servers"><tr><th>server</th><th>address</th><th>role</th></tr>
${r.servers.map((s) => `<tr><td>${h(s.name)}${s.name === r.active ? ' <b>(active)</b>' : ''}</td><td>${h(`${s.host}:${s.port}`)}</td><td class="${s.up ? 'up' : 'down'}">${s.up ? (s.primary ? 'primary' : 'standby') : `unreachable <span class="muted">${h(s.error ?? '')}</span>`}</td></tr>`).join('\n')}
</table></div>
<h2>Apps</h2>
<p>Apache: <b class="${r.apache.up ? 'up' : 'down'}">${r.apache.up ? `running (pid ${h(r.apache.pid)})` : 'stopped'}</b></p>
<div class="scroll"><table id="apps"><tr><th>app</th><th>probe</th><th>answer</th><th>time</th></tr>
${r.apps.map((a) => `<tr><td>${h(a.app)}</td><td><code>${h(a.url)}</code></td><td class="${a.up ? 'up' : 'down'}">${a.up ? 'ok' : 'FAIL'} ${h(a.status ?? '')} ${h(a.error ?? '')}</td><td>${h((a.seconds * 1000).toFixed(0))} ms</td></tr>`).join('\n')}
</table></div>
<h2>Products</h2>
<div class="scroll"><table id="products"><tr><th>product</th><th>current</th><th>previous</th><th>installed</th><th>activated</th></tr>
${r.products.map((p) => `<tr><td>${h(p.name)}</td><td><b>${h(p.current ?? '—')}</b></td><td>${h(p.previous ?? '—')}</td><td>${h(p.versions.join(' ') || '—')}</td><td>${h(when(p.activatedAt))}</td></tr>`).join('\n')}
</table></div>
<h2>Changes of the last 30 days</h2>
${timeline(r.timeline, Date.parse(r.checkedAt))}
<h2>Last 20 changes</h2>
<div class="scroll"><table id="history"><tr><th>when</th><th>what</th><th>outcome</th><th>who</th></tr>
${r.recent.map((e) => `<tr><td>${h(when(e.time))}</td><td>${h(describe(e))}</td><td class="${e.outcome === 'ok' || e.outcome === 'recovered' ? 'up' : 'down'}">${h(e.outcome)}</td><td>${h(e.user)}</td></tr>`).join('\n')}
</table></div>
<h2>Disks</h2>
<div class="scroll"><table id="disks"><tr><th>where</th><th>holds</th><th>free</th></tr>
${r.disks.map((d) => `<tr><td><code>${h(d.path)}</code></td><td>${h(d.what)}</td><td>${h((d.freeBytes / 2 ** 30).toFixed(1))} GiB of ${h((d.totalBytes / 2 ** 30).toFixed(1))} GiB</td></tr>`).join('\n')}
</table></div>
<p class="muted">Written by <code>webtree check</code> and after every change; the page refreshes itself only when it is reloaded.</p>
</main></body></html>
`;
}

function findings(r: CheckReport): string {
  if (!r.findings.length) return '<h2>Findings</h2>\n<p id="findings">none</p>';
  return `<h2>Findings</h2>\n<ul id="findings">\n${r.findings.map((f) => `<li><b>${h(f.thing)}</b>: ${h(f.problem)}<br>fix: <code>${h(f.fix)}</code></li>`).join('\n')}\n</ul>`;
}

const describe = (e: ChangeEntry) =>
  [e.action, e.product, e.from && e.to ? `${e.from} → ${e.to}` : e.to, e.message].filter(Boolean).join(' ');

/** One mark per change on a 30-day axis; red for what failed or was rolled back. */
function timeline(changes: ChangeEntry[], now: number): string {
  const W = 600;
  const H = 70;
  const start = now - 30 * DAY_MS;
  const x = (t: number) => 10 + ((t - start) / (30 * DAY_MS)) * (W - 20);
  const ticks = Array.from({ length: 31 }, (_, i) => start + i * DAY_MS);
  const marks = changes.map((c) => {
    const bad = c.outcome !== 'ok' && c.outcome !== 'recovered';
    return `<circle cx="${x(Date.parse(c.time)).toFixed(1)}" cy="${bad ? 25 : 40}" r="4" fill="${bad ? '#f66' : '#6c6'}"><title>${h(when(c.time))} ${h(describe(c))} (${h(c.outcome)})</title></circle>`;
  });
  return `<svg id="timeline" viewBox="0 0 ${W} ${H}" role="img" aria-label="${changes.length} changes in the last 30 days">
<line x1="10" y1="55" x2="${W - 10}" y2="55" stroke="#666"/>
${ticks.map((t, i) => `<line x1="${x(t).toFixed(1)}" y1="52" x2="${x(t).toFixed(1)}" y2="${i % 7 === 0 ? 60 : 55}" stroke="#666"/>`).join('')}
${ticks
  .filter((_, i) => i % 7 === 0)
  .map(
    (t) =>
      `<text x="${x(t).toFixed(1)}" y="68" fill="#aaa" font-size="9" text-anchor="middle">${h(new Date(t).toISOString().slice(5, 10))}</text>`,
  )
  .join('')}
${marks.join('\n')}
<text x="10" y="12" fill="#aaa" font-size="10">${changes.length} change${changes.length === 1 ? '' : 's'}; red: failed or rolled back</text>
</svg>`;
}
