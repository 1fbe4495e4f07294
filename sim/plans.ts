// Plans come from the CSV exports in seeds/plans (the same files the product loads as a seed), so simulated
// accounts carry real planIds, balances and limits.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';

export interface Plan {
  planId: number;
  typeName: string;
  /** API plan type code: 1 Standard, 2 Rapid, 3 Royal, 4 Knight, 5 Dragon, 6 Knight Pro, 7 Royal Pro. */
  type: number;
  /** 1-3 challenge stages, 4 funded. */
  phase: number;
  description: string;
  startingBalance: number;
  profitTargetPct: number;
  dailyLossLimitPct: number;
  maxTrailingDrawdownPct: number;
  leverage: number;
  makeDrawdownStatic: boolean;
  profitSharePct: number;
  platform: string;
  broker: string;
}

export const DEFAULT_PLANS_DIR = fileURLToPath(new URL('../seeds/plans/', import.meta.url));

const TYPE_CODES: [RegExp, number][] = [
  [/^royal pro/i, 7],
  [/^knight pro/i, 6],
  [/^standard/i, 1],
  [/^rapid/i, 2],
  [/^royal/i, 3],
  [/^knight/i, 4],
  [/^dragon/i, 5],
  [/^relaunch/i, 8],
];

export const PLATFORM_CODES: Record<string, number> = { MT4: 4, MT5: 5, CTRADER: 6, DXTRADE: 7, MTR: 8 };
export const BROKER_CODES: Record<string, number> = {
  Eightcap: 1,
  ThinkMarkets: 2,
  'Purple Trading SC': 3,
  Voyage: 4,
  'Thaurus LTD': 5,
};

function phaseOf(typeName: string): number {
  if (/funded/i.test(typeName)) return 4;
  const m = /phase (\d)/i.exec(typeName);
  return m ? Number(m[1]) : 0;
}

function num(v: string | undefined): number {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

const loaded = new Map<string, Plan[]>();

/** Every plan in the folder, de-duplicated by planId (the original export held byte-identical pairs). */
export function loadPlans(dir = DEFAULT_PLANS_DIR): Plan[] {
  let plans = loaded.get(dir);
  if (!plans) {
    plans = readPlans(dir);
    loaded.set(dir, plans);
  }
  return plans;
}

function readPlans(dir: string): Plan[] {
  const byId = new Map<number, Plan>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()) {
    const rows = parse(readFileSync(join(dir, file)), { columns: true, skip_empty_lines: true }) as Record<
      string,
      string
    >[];
    for (const r of rows) {
      const planId = num(r.planId);
      const type = TYPE_CODES.find(([re]) => re.test(r.type ?? ''))?.[1] ?? 0;
      if (!planId || byId.has(planId)) continue;
      byId.set(planId, {
        planId,
        typeName: r.type,
        type,
        phase: phaseOf(r.type ?? ''),
        description: r.description ?? '',
        startingBalance: num(r.startingBalance),
        profitTargetPct: num(r.profitTargetPct),
        dailyLossLimitPct: num(r.dailyLossLimitPct),
        maxTrailingDrawdownPct: num(r.maxTrailingDrawdownPct),
        leverage: num(r.leverage) || 100,
        makeDrawdownStatic: r.makeDrawdownStatic === '1',
        profitSharePct: num(r.profitSharePct),
        platform: (r.platform ?? '').trim(),
        broker: (r.broker ?? '').trim(),
      });
    }
  }
  return [...byId.values()].sort((a, b) => a.planId - b.planId);
}

/**
 * The plans the simulator draws from: real, sellable-looking plans with limits that can breach, on a known
 * platform and broker. Test plans and odd balances (1, 5 365 656) are left out.
 */
export class PlanCatalog {
  readonly usable: Plan[];
  private readonly byKey = new Map<string, Plan[]>();

  constructor(plans: Plan[]) {
    this.usable = plans.filter(
      (p) =>
        p.type > 0 &&
        p.phase > 0 &&
        p.startingBalance >= 5000 &&
        p.startingBalance <= 400000 &&
        p.dailyLossLimitPct > 0 &&
        p.maxTrailingDrawdownPct > 0 &&
        (p.phase === 4 ? p.profitTargetPct === 0 : p.profitTargetPct > 0) &&
        PLATFORM_CODES[p.platform.toUpperCase()] !== undefined &&
        BROKER_CODES[p.broker] !== undefined &&
        !/test/i.test(p.description),
    );
    if (this.usable.length === 0)
      throw new Error('no usable plan in the plans folder (need challenge and funded plans)');
    for (const p of this.usable) {
      const key = `${p.type}|${p.phase}|${p.startingBalance}`;
      const list = this.byKey.get(key) ?? [];
      list.push(p);
      this.byKey.set(key, list);
    }
  }

  ofPhase(phase: number): Plan[] {
    return this.usable.filter((p) => p.phase === phase);
  }

  /**
   * The plan a passed account moves to: the next phase of the same type and balance, else the funded plan
   * of that type and balance, else any funded plan of that balance (types without a funded export).
   */
  next(p: Plan, pickIndex: number): Plan | undefined {
    if (p.phase === 4) return undefined;
    const candidates = [
      `${p.type}|${p.phase + 1}|${p.startingBalance}`,
      `${p.type}|4|${p.startingBalance}`,
      `1|4|${p.startingBalance}`,
    ];
    for (const key of candidates) {
      const list = this.byKey.get(key);
      if (list?.length) return list[pickIndex % list.length];
    }
    const funded = this.ofPhase(4);
    return funded[pickIndex % funded.length];
  }
}

export function platformCode(p: Plan): number {
  return PLATFORM_CODES[p.platform.toUpperCase()];
}

export function brokerCode(p: Plan): number {
  return BROKER_CODES[p.broker];
}
