const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe for text nodes and quoted attributes, in HTML and inline SVG alike. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** JSON inside <script type="application/json">: `</script>` or `<!--` in a description must not end the block. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A fragment id from a unique id; dots and odd characters become dashes. */
export function anchorOf(id: string): string {
  return `n-${id.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}
