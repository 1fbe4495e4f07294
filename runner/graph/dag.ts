import type { GraphNode } from '../project/nodes.ts';

/** Parent and child adjacency of the project graph (sources excluded: they are not built). */
export class Dag {
  readonly parents = new Map<string, string[]>();
  readonly children = new Map<string, string[]>();

  constructor(readonly nodes: Map<string, GraphNode>) {
    for (const id of nodes.keys()) {
      this.parents.set(id, []);
      this.children.set(id, []);
    }
    for (const [id, node] of nodes) {
      for (const dep of node.dependsOn) {
        if (!nodes.has(dep)) continue;
        this.parents.get(id)!.push(dep);
        this.children.get(dep)!.push(id);
      }
    }
  }

  /** Nodes reachable through `edges` from `start`, up to `depth` steps (Infinity = all), start excluded. */
  walk(start: string, edges: 'parents' | 'children', depth = Infinity): Set<string> {
    const seen = new Set<string>();
    let frontier = [start];
    for (let d = 0; d < depth && frontier.length; d++) {
      const next: string[] = [];
      for (const id of frontier) {
        for (const n of this[edges].get(id) ?? []) {
          if (!seen.has(n)) {
            seen.add(n);
            next.push(n);
          }
        }
      }
      frontier = next;
    }
    seen.delete(start);
    return seen;
  }

  /**
   * The nearest ancestors of `id` in `subset`: its parents there, and through parents outside it, theirs. A
   * selection of a model and a table two steps below it must still build them in that order, as dbt's subset
   * graph keeps the paths that unselected nodes connect.
   */
  parentsWithin(id: string, subset: Set<string>): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const stack = [...this.parents.get(id)!];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      if (subset.has(p)) out.push(p);
      else stack.push(...this.parents.get(p)!);
    }
    return out;
  }

  /** Kahn's order of `subset` under parentsWithin, ties broken by name so output is stable. */
  topoOrder(subset: Set<string>): string[] {
    const indegree = new Map<string, number>();
    const childrenWithin = new Map<string, string[]>([...subset].map((id) => [id, []]));
    for (const id of subset) {
      const parents = this.parentsWithin(id, subset);
      indegree.set(id, parents.length);
      for (const p of parents) childrenWithin.get(p)!.push(id);
    }
    const ready = [...subset].filter((id) => indegree.get(id) === 0).sort();
    const out: string[] = [];
    while (ready.length) {
      const id = ready.shift()!;
      out.push(id);
      for (const c of childrenWithin.get(id)!) {
        const n = indegree.get(c)! - 1;
        indegree.set(c, n);
        if (n === 0) {
          const at = ready.findIndex((r) => r > c);
          ready.splice(at < 0 ? ready.length : at, 0, c);
        }
      }
    }
    return out;
  }
}
