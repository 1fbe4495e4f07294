// The docs site as one self-contained HTML file: the lineage graph (inline SVG, nodes link to their
// sections), an index with a filter, and a section per model, seed and source. The small inline script
// only highlights lineage and filters the index; everything is readable with scripts off.
import type { DocNode, DocsCatalog } from './catalog.ts';
import { anchorOf, escapeHtml, jsonForScript } from './html.ts';
import { layoutGraph, type Layout } from './layout.ts';

const GROUP_COLORS: Record<string, string> = {
  source: '#2a9d5c',
  seed: '#d9822b',
  snapshot: '#8c6d31',
  staging: '#4c78a8',
  features: '#7a5195',
  training: '#bc5090',
  marts: '#1f5fbf',
};
const colorOf = (group: string) => GROUP_COLORS[group] ?? '#6b7280';

const CSS = `
:root{--ink:#1d2430;--muted:#5b6472;--line:#e3e6ea;--bg:#f6f7f9;--card:#fff;--accent:#1f5fbf}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
main{max-width:1280px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0}h2{font-size:19px;margin:0 0 4px}h3{font-size:15px;margin:16px 0 6px}
.sub,.meta{color:var(--muted);margin:2px 0}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.graph{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:auto;margin:16px 0;
max-height:80vh}
svg.lineage{display:block;font:12px system-ui,sans-serif}
svg.lineage .edge{fill:none;stroke:#b5bcc6;stroke-width:1.3}
svg.lineage .node rect{stroke-width:1.5;fill:#fff}
svg.lineage .node text{fill:#1d2430}
svg.lineage .node:hover rect,svg.lineage .node.sel rect{stroke-width:3}
svg.lineage.focus .node{opacity:.25}svg.lineage.focus .edge{opacity:.12}
svg.lineage.focus .node.hl{opacity:1}svg.lineage.focus .edge.hl{opacity:1;stroke:#1d2430;stroke-width:2}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:13px;color:var(--muted)}
.legend span::before{content:"";display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;
background:var(--c);vertical-align:-1px}
.layout{display:grid;grid-template-columns:250px 1fr;gap:20px;align-items:start}
nav.index{position:sticky;top:12px;background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:10px;max-height:90vh;overflow:auto;font-size:13.5px}
nav.index input{width:100%;padding:6px 8px;border:1px solid var(--line);border-radius:6px;margin-bottom:8px;
font:inherit}
nav.index ul{list-style:none;margin:0 0 10px;padding:0}nav.index li{padding:1px 0}
nav.index .k{font-size:12px;text-transform:uppercase;color:var(--muted);letter-spacing:.04em;margin-top:6px}
section.doc-node{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 18px;
margin-bottom:16px}
section.doc-node:target{outline:3px solid #9cc0f5}
.badge{display:inline-block;font-size:12px;font-weight:600;color:#fff;background:var(--c,#6b7280);border-radius:4px;
padding:0 7px;vertical-align:3px;margin-left:6px}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;color:var(--muted);font-size:12.5px}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f0f2f5;border-radius:6px;padding:10px;overflow:auto;max-height:480px}
details{margin-top:8px}summary{cursor:pointer;color:var(--accent)}
.none{color:var(--muted);font-style:italic}
.hidden{display:none}
`;

// Highlights a node's ancestors and descendants on hover or when its section is the URL fragment;
// filters the index. Marks the page ready so a headless browser test can tell the script ran.
const SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('graph-data').textContent);
  var svg = document.getElementById('lineage');
  function walk(start, key) {
    var seen = {}, stack = [start];
    while (stack.length) {
      var id = stack.pop();
      (data[id] ? data[id][key] : []).forEach(function (n) { if (!seen[n]) { seen[n] = true; stack.push(n); } });
    }
    return seen;
  }
  function focus(id) {
    if (!svg) return;
    var keep = {};
    if (id) { keep = Object.assign(walk(id, 'p'), walk(id, 'c')); keep[id] = true; }
    svg.classList.toggle('focus', Boolean(id));
    svg.querySelectorAll('.node').forEach(function (n) {
      n.classList.toggle('hl', Boolean(keep[n.getAttribute('data-id')]));
      n.classList.toggle('sel', n.getAttribute('data-id') === id);
    });
    svg.querySelectorAll('.edge').forEach(function (e) {
      e.classList.toggle('hl', Boolean(keep[e.getAttribute('data-from')] && keep[e.getAttribute('data-to')]));
    });
  }
  var byAnchor = {};
  Object.keys(data).forEach(function (id) { byAnchor[data[id].a] = id; });
  function fromHash() { focus(byAnchor[location.hash.slice(1)] || null); }
  if (svg) {
    svg.querySelectorAll('.node').forEach(function (n) {
      n.addEventListener('mouseenter', function () { focus(n.getAttribute('data-id')); });
      n.addEventListener('mouseleave', fromHash);
    });
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
  var filter = document.getElementById('filter');
  if (filter) filter.addEventListener('input', function () {
    var q = filter.value.trim().toLowerCase();
    document.querySelectorAll('nav.index li').forEach(function (li) {
      li.classList.toggle('hidden', q !== '' && li.textContent.toLowerCase().indexOf(q) < 0);
    });
    // A kind (models, seeds, sources) with no match loses its heading too.
    document.querySelectorAll('nav.index ul').forEach(function (ul) {
      var none = !ul.querySelector('li:not(.hidden)');
      ul.classList.toggle('hidden', none);
      if (ul.previousElementSibling) ul.previousElementSibling.classList.toggle('hidden', none);
    });
  });
  document.documentElement.setAttribute('data-ready', '1');
})();
`;

const truncate = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The lineage graph: one <a class="node"> per model, seed and source; one <path class="edge"> per dependency. */
export function renderLineageSvg(nodes: DocNode[], layout: Layout = layoutGraph(nodes)): string {
  const { nodeWidth: w, nodeHeight: h } = layout;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let edges = '';
  let edgeCount = 0;
  for (const n of nodes) {
    const to = layout.nodes.get(n.id)!;
    for (const p of n.parents) {
      const from = layout.nodes.get(p);
      if (!from || !byId.has(p)) continue;
      const x1 = from.x + w;
      const y1 = from.y + h / 2;
      const x2 = to.x;
      const y2 = to.y + h / 2;
      const mid = (x1 + x2) / 2;
      edges +=
        `<path class="edge" data-from="${escapeHtml(p)}" data-to="${escapeHtml(n.id)}" ` +
        `d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2 - 6} ${y2}" marker-end="url(#arrow)"/>`;
      edgeCount++;
    }
  }
  let boxes = '';
  for (const n of nodes) {
    const p = layout.nodes.get(n.id)!;
    const c = colorOf(n.group);
    const tip = `${n.kind} ${n.name} (${n.relation})${n.description ? `: ${n.description}` : ''}`;
    boxes +=
      `<a class="node" href="#${anchorOf(n.id)}" data-id="${escapeHtml(n.id)}" data-kind="${n.kind}">` +
      `<title>${escapeHtml(tip)}</title>` +
      `<rect x="${p.x}" y="${p.y}" width="${w}" height="${h}" rx="5" stroke="${c}"/>` +
      `<rect x="${p.x}" y="${p.y}" width="6" height="${h}" rx="2" fill="${c}" stroke="none"/>` +
      `<text x="${p.x + 13}" y="${p.y + h / 2 + 4}">${escapeHtml(truncate(n.name, 30))}</text></a>`;
  }
  return (
    `<svg id="lineage" class="lineage" data-nodes="${nodes.length}" data-edges="${edgeCount}" role="img" ` +
    'aria-label="Lineage of every model, seed and source" ' +
    `viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" ` +
    'xmlns="http://www.w3.org/2000/svg">' +
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="4" refY="5" markerWidth="7" markerHeight="7" ' +
    'orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#9aa3ae"/></marker></defs>' +
    `<g class="edges">${edges}</g><g class="nodes">${boxes}</g></svg>`
  );
}

function links(ids: string[], byId: Map<string, DocNode>): string {
  if (!ids.length) return '<span class="none">none</span>';
  return ids.map((id) => `<a href="#${anchorOf(id)}">${escapeHtml(byId.get(id)?.name ?? id)}</a>`).join(', ');
}

function columnsTable(n: DocNode): string {
  if (!n.columns.length)
    return (
      '<p class="none">No documented columns' +
      `${n.kind === 'model' ? ': describe them in a .yml beside the model' : ''}.</p>`
    );
  const hasType = n.columns.some((c) => c.dataType);
  return (
    `<table class="columns"><thead><tr><th>Column</th>${hasType ? '<th>Type</th>' : ''}` +
    '<th>Description</th><th>Tests</th></tr></thead><tbody>' +
    n.columns
      .map(
        (c) =>
          `<tr><td><code>${escapeHtml(c.name)}</code></td>` +
          `${hasType ? `<td>${escapeHtml(c.dataType ?? '')}</td>` : ''}` +
          `<td>${c.description ? escapeHtml(c.description) : '<span class="none">—</span>'}</td>` +
          `<td>${c.tests.map((t) => `<code>${escapeHtml(t)}</code>`).join('<br>')}</td></tr>`,
      )
      .join('') +
    '</tbody></table>'
  );
}

function nodeSection(n: DocNode, byId: Map<string, DocNode>): string {
  const badge = n.kind === 'model' ? (n.materialized ?? 'model') : n.kind;
  const meta = [
    `<code>${escapeHtml(n.relation)}</code>`,
    n.path ? escapeHtml(n.path) : '',
    n.tags.length ? `tags: ${n.tags.map(escapeHtml).join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  let sql = '';
  if (n.compiledSql)
    sql += `<details><summary>Compiled SQL</summary><pre><code>${escapeHtml(n.compiledSql)}</code></pre></details>`;
  if (n.compileError) sql += `<p class="none">Could not compile without a database: ${escapeHtml(n.compileError)}</p>`;
  if (n.rawSql)
    sql += `<details><summary>Source SQL</summary><pre><code>${escapeHtml(n.rawSql)}</code></pre></details>`;
  return (
    `<section class="doc-node" id="${anchorOf(n.id)}" data-kind="${n.kind}">` +
    `<h2>${escapeHtml(n.name)}<span class="badge" style="--c:${colorOf(n.group)}">${escapeHtml(badge)}</span></h2>` +
    `<p class="meta">${meta}</p>` +
    (n.description ? `<p>${escapeHtml(n.description)}</p>` : '<p class="none">No description.</p>') +
    `<h3>Columns</h3>${columnsTable(n)}` +
    (n.tests.length
      ? `<h3>Tests</h3><ul>${n.tests.map((t) => `<li><code>${escapeHtml(t)}</code></li>`).join('')}</ul>`
      : '') +
    `<h3>Lineage</h3><p>Parents: ${links(n.parents, byId)}</p><p>Children: ${links(n.children, byId)}</p>` +
    sql +
    '</section>'
  );
}

export function renderDocs(catalog: DocsCatalog): string {
  const nodes = catalog.nodes;
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const counts = (k: DocNode['kind']) => nodes.filter((n) => n.kind === k).length;
  const order = Object.keys(GROUP_COLORS);
  const rank = (g: string) => (order.includes(g) ? order.indexOf(g) : order.length);
  const groups = [...new Set(nodes.map((n) => n.group))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const kindRank = { model: 0, snapshot: 1, seed: 2, source: 3 };
  const sections = [...nodes].sort(
    (a, b) => kindRank[a.kind] - kindRank[b.kind] || rank(a.group) - rank(b.group) || a.name.localeCompare(b.name),
  );
  const legend = groups.map((g) => `<span style="--c:${colorOf(g)}">${escapeHtml(g)}</span>`).join('');
  const graph = nodes.length
    ? `<div class="graph">${renderLineageSvg(nodes)}</div>`
    : '<p class="none">The project has no models, seeds or sources yet.</p>';
  const index = (['model', 'snapshot', 'seed', 'source'] as const)
    .filter((k) => counts(k))
    .map(
      (k) =>
        `<div class="k">${k}s</div><ul>${nodes
          .filter((n) => n.kind === k)
          .map((n) => `<li><a href="#${anchorOf(n.id)}">${escapeHtml(n.name)}</a></li>`)
          .join('')}</ul>`,
    )
    .join('');
  const data = Object.fromEntries(nodes.map((n) => [n.id, { a: anchorOf(n.id), p: n.parents, c: n.children }]));
  const title = `${catalog.projectName} docs`;
  const csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";
  const generated = escapeHtml(catalog.generatedAt.replace('T', ' ').slice(0, 16));
  const sub =
    `${counts('model')} models, ${counts('snapshot') ? `${counts('snapshot')} snapshots, ` : ''}` +
    `${counts('seed')} seeds, ${counts('source')} sources. Generated ${generated} UTC. ` +
    'Click a node for its columns, tests and SQL; hover to trace its lineage.';
  const filter = '<input id="filter" type="search" placeholder="Filter" aria-label="Filter models">';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body><main>
<header><h1>${escapeHtml(title)}</h1><p class="sub">${sub}</p></header>
<div class="legend">${legend}</div>
${graph}
<div class="layout"><nav class="index">${filter}${index}</nav>
<div class="sections">${sections.map((n) => nodeSection(n, byId)).join('\n')}</div></div>
</main>
<script type="application/json" id="graph-data">${jsonForScript(data)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
