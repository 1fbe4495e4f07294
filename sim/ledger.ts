// The forward pass: day by day, every account slot decides whether it trades, what it expects to make (the
// oracle), what it makes, and how balance, drawdown, breaches, passes and payouts follow. Only a few numbers
// per account-day are kept; trades are derived from them later, lazily, per day.
import { Rng } from './rng.ts';
import type { Calendar } from './calendar.ts';
import { type PlanCatalog, type Plan, platformCode, brokerCode } from './plans.ts';
import { type RegimeSeries, VOL_MULT } from './regimes.ts';
import { makeTraits, TRADES_PER_DAY, type Traits } from './traits.ts';

/** Account status codes of the API. */
export const ACTIVE = 1;
export const BREACHED = 2;
export const PASSED = 3;
const PAYOUT_EVERY = 14;
/** A liquidated day loses the daily limit times up to this (the slippage drawn below). */
const SLIPPAGE_MAX = 1.03;
const MAX_TRADES = 60;

export interface Account {
  idx: number;
  accountId: string;
  login: string;
  platform: number;
  broker: number;
  mngr: number;
  trader: number;
  plan: Plan;
  startDay: number;
  /** Last day with a metrics row (inclusive); the breach or pass day when the account ended. */
  endDay: number;
  /** Status after endDay: ACTIVE when the account is still live at the end of the history. */
  endStatus: number;
  /** Index of the account this one was upgraded from, or -1. */
  upgradedFrom: number;
  /** Per day of life (index = day - startDay). Money in cents, so sums are exact. */
  expected: Float64Array;
  /** Probability of trading and the mean and sigma of the day's PnL if trading (dollars). */
  pActive: Float64Array;
  mu: Float64Array;
  net: Float64Array;
  /** End-of-day balance after payouts. */
  balance: Float64Array;
  floating: Float64Array;
  payout: Float64Array;
  /** Sigma of the day's PnL in dollars (drives trade sizes). */
  sigma: Float64Array;
  nTrades: Uint8Array;
  nOpen: Uint8Array;
}

export interface Ledger {
  accounts: Account[];
  traits: Traits[];
  /** Account indices live on each day, ascending. */
  liveByDay: Int32Array[];
}

interface SlotState {
  account: Account | undefined;
  reopenDay: number;
  nextPlan: Plan | undefined;
  /** The account that passed and is being upgraded into the next one, or -1. */
  passedFrom: number;
  hwm: number;
  ewma: number;
  lastZ: number;
  activePrev: boolean;
}

export function runLedger(
  seed: number,
  slots: number,
  cal: Calendar,
  catalog: PlanCatalog,
  regimes: RegimeSeries,
): Ledger {
  const days = cal.days;
  const traderOfSlot = (s: number) => Math.floor(s / 1.35);
  const traits: Traits[] = [];
  for (let t = 0; t <= traderOfSlot(slots - 1); t++) traits.push(makeTraits(seed, t));
  const accounts: Account[] = [];
  const loginCounter = new Map<number, number>();
  const challenge = catalog.ofPhase(1);
  const funded = catalog.ofPhase(4);
  const later = catalog.usable.filter((p) => p.phase === 2 || p.phase === 3);

  const state: SlotState[] = [];
  for (let s = 0; s < slots; s++) {
    const rng = new Rng(seed, 0x5107, s);
    const r = rng.next();
    const plan = r < 0.85 ? rng.pick(funded) : r < 0.94 ? rng.pick(challenge) : rng.pick(later);
    state.push({
      account: undefined,
      reopenDay: 0,
      nextPlan: plan,
      passedFrom: -1,
      hwm: 0,
      ewma: 0,
      lastZ: 0,
      activePrev: true,
    });
  }

  const open = (s: number, day: number, plan: Plan, from: number): Account => {
    const platform = platformCode(plan);
    const seq = (loginCounter.get(platform) ?? 0) + 1;
    loginCounter.set(platform, seq);
    const idx = accounts.length;
    const life = days - day;
    const acc: Account = {
      idx,
      accountId: String(1_000_000 + idx * 13 + (seed % 13)),
      // Logins restart per platform, so the same login exists on several platforms: trades must join on
      // (login, platform, broker) as upstream does.
      login: String(100_000 + seq * 3 + (seed % 3)),
      platform,
      broker: brokerCode(plan),
      mngr: 10 + brokerCode(plan),
      trader: traderOfSlot(s),
      plan,
      startDay: day,
      endDay: days - 1,
      endStatus: ACTIVE,
      upgradedFrom: from,
      expected: new Float64Array(life),
      pActive: new Float64Array(life),
      mu: new Float64Array(life),
      net: new Float64Array(life),
      balance: new Float64Array(life),
      floating: new Float64Array(life),
      payout: new Float64Array(life),
      sigma: new Float64Array(life),
      nTrades: new Uint8Array(life),
      nOpen: new Uint8Array(life),
    };
    accounts.push(acc);
    return acc;
  };

  const liveByDay: Int32Array[] = [];
  for (let d = 0; d < days; d++) {
    const live: number[] = [];
    const weekday = cal.weekday(d);
    const weekend = weekday >= 5;
    const volMult = VOL_MULT[regimes.vol[d]] * (regimes.event[d] ? 1.3 : 1);
    const sentiment = regimes.sentiment[d];
    for (let s = 0; s < slots; s++) {
      const st = state[s];
      if (!st.account) {
        if (d < st.reopenDay || !st.nextPlan) continue;
        st.account = open(s, d, st.nextPlan, st.passedFrom);
        st.hwm = st.nextPlan.startingBalance * 100;
        st.ewma = 0;
        st.lastZ = 0;
        st.activePrev = true;
      }
      const acc = st.account;
      const i = d - acc.startDay;
      const tr = traits[acc.trader];
      const plan = acc.plan;
      const rng = new Rng(seed, 0xd1, acc.idx, d);
      const startC = plan.startingBalance * 100;
      const prevBal = i === 0 ? startC : acc.balance[i - 1];
      live.push(acc.idx);

      // Risk management near the drawdown floor: traders shrink size when little room is left.
      const maxDD = (plan.maxTrailingDrawdownPct / 100) * startC;
      const floor = plan.makeDrawdownStatic ? startC - maxDD : st.hwm - maxDD;
      const room = Math.max(0, (prevBal - floor) / maxDD);
      const tilted = st.lastZ < -1.5 ? tr.tilt : 0;
      const R = plan.startingBalance * tr.riskPct;
      const sigma = R * volMult * (1 + 0.8 * tilted) * (room < 0.3 ? 0.6 : 1);
      let muZ = tr.skill * (regimes.vol[d] === 2 && tr.style === 'scalper' ? 1.4 : 1);
      muZ += 0.5 * tr.directional * sentiment;
      muZ += tr.momentum * st.ewma;
      muZ -= 0.3 * tilted;
      muZ += weekday === 0 ? -0.06 : weekday === 4 ? 0.05 : 0;
      if (regimes.event[d] && tr.style === 'swing') muZ -= 0.12;
      const mu = muZ * sigma;

      let pActive = weekend ? (tr.weekendTrader ? 0.4 : 0.01) : tr.activity * (st.activePrev ? 1 : 0.55);
      if (tilted > 0 && !weekend) pActive = Math.min(0.98, pActive * 1.15);
      acc.expected[i] = round2(pActive * mu);
      acc.pActive[i] = pActive;
      acc.mu[i] = mu;
      acc.sigma[i] = sigma;

      let netC = 0;
      let ended = 0;
      if (rng.chance(pActive)) {
        let net = mu + sigma * rng.studentT(3);
        const dailyLimit = (plan.dailyLossLimitPct / 100) * plan.startingBalance;
        if (net < -dailyLimit) {
          // Risk systems liquidate at the limit; slippage takes a little more.
          net = -dailyLimit * (1 + 0.03 * rng.next());
          ended = BREACHED;
        }
        netC = Math.round(net * 100);
        const [lo, hi] = TRADES_PER_DAY[tr.style];
        const n = Math.round(rng.int(lo, hi) * (regimes.vol[d] === 2 ? 1.3 : 1) * (1 + tilted));
        acc.nTrades[i] = Math.max(1, Math.min(MAX_TRADES, n));
        st.lastZ = net / R;
        st.ewma = 0.7 * st.ewma + 0.3 * Math.max(-4, Math.min(4, st.lastZ));
        st.activePrev = true;
      } else {
        st.activePrev = false;
        st.lastZ = 0;
        st.ewma *= 0.85;
      }
      acc.net[i] = netC;
      let bal = prevBal + netC;
      if (!ended && bal < (plan.makeDrawdownStatic ? startC - maxDD : st.hwm - maxDD)) ended = BREACHED;
      if (!ended && plan.phase < 4 && bal >= startC * (1 + plan.profitTargetPct / 100)) ended = PASSED;
      if (!ended && plan.phase === 4 && (i + 1) % PAYOUT_EVERY === 0 && bal > startC) {
        acc.payout[i] = bal - startC;
        bal = startC;
        st.hwm = startC;
      }
      st.hwm = Math.max(st.hwm, bal);
      acc.balance[i] = bal;
      if (!ended) {
        const nOpen = tr.style === 'swing' ? rng.int(0, 3) : tr.style === 'intraday' && rng.chance(0.3) ? 1 : 0;
        acc.nOpen[i] = nOpen;
        acc.floating[i] = nOpen > 0 ? Math.round(0.25 * sigma * rng.normal() * 100) : 0;
        continue;
      }
      acc.endDay = d;
      acc.endStatus = ended;
      st.account = undefined;
      st.passedFrom = ended === PASSED ? acc.idx : -1;
      if (ended === PASSED) {
        st.nextPlan = catalog.next(plan, rng.int(0, 1 << 20));
        st.reopenDay = d + rng.int(1, 3);
      } else {
        st.nextPlan = rng.pick(challenge);
        st.reopenDay = d + (rng.chance(0.85) ? rng.int(2, 10) : rng.int(30, 90));
      }
    }
    liveByDay.push(Int32Array.from(live).sort());
  }
  for (const acc of accounts) trimLife(acc);
  return { accounts, traits, liveByDay };
}

function trimLife(acc: Account): void {
  const n = acc.endDay - acc.startDay + 1;
  acc.expected = acc.expected.slice(0, n);
  acc.pActive = acc.pActive.slice(0, n);
  acc.mu = acc.mu.slice(0, n);
  acc.net = acc.net.slice(0, n);
  acc.balance = acc.balance.slice(0, n);
  acc.floating = acc.floating.slice(0, n);
  acc.payout = acc.payout.slice(0, n);
  acc.sigma = acc.sigma.slice(0, n);
  acc.nTrades = acc.nTrades.slice(0, n);
  acc.nOpen = acc.nOpen.slice(0, n);
}

export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** CDF of the unit-variance Student-t with 3 degrees of freedom the ledger draws noise from. */
function unitT3Cdf(x: number): number {
  const t = x * Math.sqrt(3);
  return 0.5 + (t / (Math.sqrt(3) * (1 + (t * t) / 3)) + Math.atan(t / Math.sqrt(3))) / Math.PI;
}

/**
 * The q-quantile of the day's net profit given the start-of-day state: a point mass at 0 (no trading) mixed
 * with mu + sigma * t3, whose draws below the daily loss limit L are liquidated at L plus up to 3% slippage.
 */
export function quantileNet(acc: Account, i: number, q: number): number {
  const p = acc.pActive[i];
  const mu = acc.mu[i];
  const sigma = acc.sigma[i];
  const limit = (acc.plan.dailyLossLimitPct / 100) * acc.plan.startingBalance;
  if (sigma <= 0 || p <= 0) return 0;
  const liquidated = p * unitT3Cdf((-limit - mu) / sigma);
  const cdf = (x: number) => {
    if (x < -limit * SLIPPAGE_MAX) return 0;
    if (x < -limit) return liquidated * (1 - (-x / limit - 1) / (SLIPPAGE_MAX - 1));
    return p * unitT3Cdf((x - mu) / sigma) + (x >= 0 ? 1 - p : 0);
  };
  let lo = -limit * SLIPPAGE_MAX;
  let hi = Math.max(0, mu + 50 * sigma);
  if (cdf(lo) >= q) return round2(lo);
  for (let k = 0; k < 80; k++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return round2(hi);
}

/** E|net profit| of the day given the start-of-day state (midpoint rule over the t3 in angle form). */
export function expectedAbsNet(acc: Account, i: number): number {
  const p = acc.pActive[i];
  const mu = acc.mu[i];
  const sigma = acc.sigma[i];
  const limit = (acc.plan.dailyLossLimitPct / 100) * acc.plan.startingBalance;
  // With T = tan(theta), the unit-variance t3's density dT is (2 / pi) cos^2(theta) dtheta on (-pi/2, pi/2).
  const steps = 2000;
  let sum = 0;
  for (let k = 0; k < steps; k++) {
    const theta = -Math.PI / 2 + ((k + 0.5) * Math.PI) / steps;
    const raw = mu + sigma * Math.tan(theta);
    sum += (raw < -limit ? (limit * (1 + SLIPPAGE_MAX)) / 2 : Math.abs(raw)) * Math.cos(theta) ** 2;
  }
  return round2((p * sum * 2) / steps);
}

/**
 * Median of the day's net profit given the start-of-day state: a point mass at 0 (no trading) mixed with
 * mu + sigma * t3. The best constant under absolute error, as `expected` is under squared error.
 */
export function medianNet(acc: Account, i: number): number {
  const p = acc.pActive[i];
  const mu = acc.mu[i];
  const sigma = acc.sigma[i];
  const cdf = (m: number) => (1 - p) * (m >= 0 ? 1 : 0) + p * unitT3Cdf((m - mu) / sigma);
  const below = p * unitT3Cdf(-mu / sigma);
  if (sigma <= 0 || (below < 0.5 && below + (1 - p) >= 0.5)) return 0;
  let lo = below >= 0.5 ? mu - 50 * sigma : 0;
  let hi = below >= 0.5 ? 0 : mu + 50 * sigma;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) < 0.5) lo = mid;
    else hi = mid;
  }
  return round2((lo + hi) / 2);
}
