// Switchable, deterministic faults. Each kind fires on the next `count` eligible requests, or on each one
// with `probability` (drawn from a seeded stream, so a test run repeats exactly).
import { z } from 'zod';
import { Rng } from './rng.ts';

const trigger = {
  count: z.number().int().min(0).optional(),
  probability: z.number().min(0).max(1).optional(),
};

export const FaultsSchema = z
  .object({
    /** A burst of 500/502/503 responses (cycling through `statuses`). */
    serverErrors: z.object({ ...trigger, statuses: z.array(z.number().int().min(500).max(599)).optional() }).optional(),
    /** Delay before answering. */
    slow: z.object({ ...trigger, ms: z.number().int().min(0) }).optional(),
    /** Destroy the socket after sending half of the body. */
    drop: z.object(trigger).optional(),
    /** Send a complete HTTP response whose JSON body is cut off. */
    truncate: z.object(trigger).optional(),
    /** Corrupt `perPage` records of a page (lots <= 0, missing login, non-ISO date); see stats().invalidRecords. */
    invalid: z.object({ ...trigger, perPage: z.number().int().min(1).optional() }).optional(),
    /**
     * From the triggering page on, the listing shifts back by `overlap` records (as if rows were inserted ahead
     * of the cursor): the next pages repeat records already served and the total grows, with nothing lost.
     */
    duplicates: z.object({ ...trigger, overlap: z.number().int().min(1).optional() }).optional(),
    /** Only requests whose endpoint path contains one of these (default: every endpoint). */
    endpoints: z.array(z.string()).optional(),
    seed: z.number().int().optional(),
  })
  .strict();

export type Faults = z.infer<typeof FaultsSchema>;
export type FaultKind = 'serverErrors' | 'slow' | 'drop' | 'truncate' | 'invalid' | 'duplicates';
const KINDS: FaultKind[] = ['serverErrors', 'slow', 'drop', 'truncate', 'invalid', 'duplicates'];

export class FaultState {
  private remaining = new Map<FaultKind, number>();
  private rng: Rng;
  /** Shared across fault switches so stats() counts every injection since the server started. */
  constructor(
    readonly faults: Faults = {},
    readonly injected: Record<FaultKind, number> = {
      serverErrors: 0,
      slow: 0,
      drop: 0,
      truncate: 0,
      invalid: 0,
      duplicates: 0,
    },
  ) {
    this.rng = new Rng(faults.seed ?? 7, 0xfa17);
    for (const k of KINDS) {
      const count = faults[k]?.count;
      if (count !== undefined) this.remaining.set(k, count);
    }
  }

  applies(endpoint: string): boolean {
    return !this.faults.endpoints || this.faults.endpoints.some((e) => endpoint.includes(e));
  }

  /** Whether fault `kind` fires on this request; counts it when it does. */
  fire(kind: FaultKind): boolean {
    const spec = this.faults[kind];
    if (!spec) return false;
    let hit = false;
    const left = this.remaining.get(kind);
    if (left !== undefined && left > 0) {
      this.remaining.set(kind, left - 1);
      hit = true;
    } else if (spec.probability !== undefined) {
      hit = this.rng.next() < spec.probability;
    }
    if (hit) this.injected[kind]++;
    return hit;
  }

  private errors = 0;

  serverErrorStatus(): number {
    const statuses = this.faults.serverErrors?.statuses ?? [500, 502, 503];
    return statuses[this.errors++ % statuses.length];
  }
}
