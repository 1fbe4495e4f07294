// Left-to-right layered layout of the lineage graph: a node's column is its longest path from a root,
// so every edge points right; rows are ordered by the mean row of the neighbours (barycentre sweeps),
// which removes most crossings in graphs of this size without a layout library.

export interface LayoutInput {
  id: string;
  parents: string[];
}

export interface Placed {
  id: string;
  layer: number;
  row: number;
  x: number;
  y: number;
}

export interface Layout {
  nodes: Map<string, Placed>;
  width: number;
  height: number;
  layers: number;
  nodeWidth: number;
  nodeHeight: number;
}

export interface LayoutOptions {
  nodeWidth?: number;
  nodeHeight?: number;
  gapX?: number;
  gapY?: number;
  margin?: number;
  sweeps?: number;
}

/** Longest-path depth from the roots; a cycle (which the runner refuses anyway) is cut where found. */
export function depths(nodes: LayoutInput[]): Map<string, number> {
  const parents = new Map(nodes.map((n) => [n.id, n.parents.filter((p) => p !== n.id)]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const visit = (id: string): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    let d = 0;
    for (const p of parents.get(id) ?? []) if (parents.has(p)) d = Math.max(d, visit(p) + 1);
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const n of nodes) visit(n.id);
  return depth;
}

export function layoutGraph(nodes: LayoutInput[], options: LayoutOptions = {}): Layout {
  const nodeWidth = options.nodeWidth ?? 200;
  const nodeHeight = options.nodeHeight ?? 30;
  const gapX = options.gapX ?? 56;
  const gapY = options.gapY ?? 14;
  const margin = options.margin ?? 16;
  const depth = depths(nodes);
  const layerCount = nodes.length ? Math.max(...depth.values()) + 1 : 0;
  const layers: string[][] = Array.from({ length: layerCount }, () => []);
  for (const n of nodes) layers[depth.get(n.id)!].push(n.id);
  const children = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  const parents = new Map<string, string[]>();
  for (const n of nodes) {
    parents.set(
      n.id,
      n.parents.filter((p) => children.has(p)),
    );
    for (const p of parents.get(n.id)!) children.get(p)!.push(n.id);
  }
  const rowOf = new Map<string, number>();
  const renumber = (layer: string[]) => {
    for (const [i, id] of layer.entries()) rowOf.set(id, i);
  };
  for (const layer of layers) renumber(layer);
  const sortBy = (layer: string[], neighbours: (id: string) => string[]) => {
    const key = new Map(
      layer.map((id) => {
        const rows = neighbours(id)
          .map((n) => rowOf.get(n)!)
          .filter((r) => r !== undefined);
        return [id, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : rowOf.get(id)!];
      }),
    );
    // Stable on ties so the input order (kind, then name) decides between unrelated nodes.
    layer.sort((a, b) => key.get(a)! - key.get(b)! || rowOf.get(a)! - rowOf.get(b)!);
    renumber(layer);
  };
  for (let s = 0; s < (options.sweeps ?? 4); s++) {
    for (let l = 1; l < layerCount; l++) sortBy(layers[l], (id) => parents.get(id)!);
    for (let l = layerCount - 2; l >= 0; l--) sortBy(layers[l], (id) => children.get(id)!);
  }
  const tallest = Math.max(0, ...layers.map((l) => l.length));
  const height = margin * 2 + Math.max(0, tallest * (nodeHeight + gapY) - gapY);
  const width = margin * 2 + Math.max(0, layerCount * (nodeWidth + gapX) - gapX);
  const placed = new Map<string, Placed>();
  layers.forEach((layer, l) => {
    // Short columns are centred so edges into them stay short.
    const offset = ((tallest - layer.length) * (nodeHeight + gapY)) / 2;
    for (const [row, id] of layer.entries()) {
      placed.set(id, {
        id,
        layer: l,
        row,
        x: margin + l * (nodeWidth + gapX),
        y: margin + offset + row * (nodeHeight + gapY),
      });
    }
  });
  return { nodes: placed, width, height, layers: layerCount, nodeWidth, nodeHeight };
}
