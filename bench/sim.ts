// Prints how fast the simulator generates closed trades and serves them through the API
// (2 000 accounts x 365 days by default; `--accounts N --days N --sample-days N` to change).
import { fork } from 'node:child_process';
import { Agent, get } from 'node:http';
import { fileURLToPath } from 'node:url';
import { generateFirm } from '../sim/firm.ts';
import { startSimServer } from '../sim/server.ts';
import { closedTradeJson } from '../sim/json.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const accounts = arg('accounts', 2000);
const days = arg('days', 365);
const sample = Math.min(days, arg('sample-days', 30));
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

// The server runs in a child process, as it would beside a real ingest client; it reports its URL when ready.
if (process.argv.includes('--child')) {
  const sim = await startSimServer({ seed: 1, accounts, days, apiKey: 'bench' });
  process.send?.(sim.url);
  // The parent asks for the server's CPU time around each run (wall time depends on what else the machine runs).
  process.on('message', () => process.send?.(process.cpuUsage()));
  process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
} else {
  let t = performance.now();
  const firm = generateFirm({ seed: 1, accounts, days });
  const ledgerMs = performance.now() - t;
  let total = 0;
  for (let d = 0; d < days; d++) total += firm.closedTradeCount(d);
  console.log(
    `firm ${accounts} slots x ${days} days: ${firm.ledger.accounts.length} accounts, ${fmt(total)} closed trades; ` +
      `ledger built in ${fmt(ledgerMs)} ms, heap ${fmt(process.memoryUsage().heapUsed / 2 ** 20)} MB`,
  );

  // Days spread over the history, each generated once (the per-day cache would otherwise flatter the numbers).
  const picks = Array.from({ length: sample }, (_, k) => Math.floor((k * days) / sample));
  t = performance.now();
  let generated = 0;
  for (const d of picks.slice(0, Math.ceil(sample / 2))) generated += firm.closedTrades(d).length;
  const genS = (performance.now() - t) / 1000;
  console.log(`generated: ${fmt(generated / genS)} trades/s (${fmt(generated)} trades)`);

  t = performance.now();
  let bytes = 0;
  for (const d of picks.slice(0, Math.ceil(sample / 2)))
    for (const tr of firm.closedTrades(d)) bytes += closedTradeJson(tr).length;
  console.log(
    `serialised from objects (cached days): ${fmt(generated / ((performance.now() - t) / 1000))} trades/s, ` +
      `${fmt(bytes / generated)} bytes/trade`,
  );
  t = performance.now();
  let written = 0;
  for (const d of picks.slice(Math.ceil(sample / 2))) written += firm.tradesJson('closed', d).count;
  console.log(
    'written as JSON bytes (what the server does for a fresh day): ' +
      `${fmt(written / ((performance.now() - t) / 1000))} trades/s (${fmt(written)} trades)`,
  );

  const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--child'], {
    // --prof DIR: CPU profile of the server process (node --cpu-prof), written when it exits.
    execArgv: [
      '--import',
      'tsx',
      ...(process.argv.includes('--prof')
        ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[process.argv.indexOf('--prof') + 1]}`]
        : []),
    ],
  });
  const url = await new Promise<string>((resolve) => child.once('message', (m) => resolve(String(m))));

  /** The ingest client (got) sits on node:http; so does this one: keep-alive, body read as bytes, decoded once. */
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const getText = (u: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      get(u, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      }).on('error', reject);
    });

  /** Pages of one listing in order, `concurrency` requests in flight; returns the records served. */
  async function listing(
    params: Record<string, string>,
    limit: number,
    concurrency: number,
    parse: boolean,
  ): Promise<number> {
    const qs = new URLSearchParams({ apiKey: 'bench', ...params, limit: String(limit) }).toString();
    let next = 0;
    let done = false;
    let served = 0;
    const worker = async () => {
      while (!done) {
        const skip = next;
        next += limit;
        const { status, text } = await getText(`${url}v2/trades/closed?${qs}&skip=${skip}`);
        if (status !== 200) throw new Error(`HTTP ${status}: ${text.slice(0, 200)}`);
        const count = parse
          ? (JSON.parse(text) as { Data: { count: number } }).Data.count
          : Number(/"count":(\d+)}}$/.exec(text)![1]);
        served += count;
        if (count < limit) done = true;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return served;
  }

  const serverCpu = () =>
    new Promise<number>((resolve) => {
      child.once('message', (m) => resolve(((m as NodeJS.CpuUsage).user + (m as NodeJS.CpuUsage).system) / 1e6));
      child.send('cpu');
    });

  /** Serves `n` fresh consecutive days from `first` (per trade-date, or as one trade-date-from/-to listing). */
  async function run(
    label: string,
    first: number,
    n: number,
    opts: { range?: boolean; parse: boolean; concurrency: number; spread?: boolean },
  ) {
    const ds = Array.from({ length: n }, (_, k) => (opts.spread ? Math.floor(((k + 0.5) * days) / n) : first + k));
    const cpu0 = await serverCpu();
    const client0 = process.cpuUsage();
    const start = performance.now();
    let served = 0;
    if (opts.range)
      served += await listing(
        { 'trade-date-from': firm.cal.ymd(ds[0]), 'trade-date-to': firm.cal.ymd(ds[n - 1]) },
        1000,
        opts.concurrency,
        opts.parse,
      );
    else
      for (const d of ds)
        served += await listing({ 'trade-date': firm.cal.ymd(d) }, 1000, opts.concurrency, opts.parse);
    const s = (performance.now() - start) / 1000;
    const cpu = (await serverCpu()) - cpu0;
    const c = process.cpuUsage(client0);
    const clientCpu = (c.user + c.system) / 1e6;
    console.log(
      `  ${label.padEnd(70)} ${fmt(served / s).padStart(9)} trades/s   ` +
        `server CPU ${((cpu * 1e6) / served).toFixed(2)} us/trade = ` +
        `${fmt(served / cpu).padStart(9)} trades/s per core, ` +
        `client CPU ${((clientCpu * 1e6) / served).toFixed(2)} us/trade (${fmt(served)} trades, ${s.toFixed(2)} s)`,
    );
  }

  // Warm-up: the child built its ledger; a few pages warm its JIT (days outside the timed ones).
  for (const d of [1, 3]) await listing({ 'trade-date': firm.cal.ymd(d) }, 1000, 2, true);

  const span = Math.max(1, Math.min(10, Math.floor(days / 5)));
  const at = (k: number) => Math.min(days - span, Math.floor((k * days) / 5));
  console.log(
    'served over HTTP: server in its own process, fresh days, page size 1 000 ' +
      '(target >= 250 000 trades/s with parsing):',
  );
  await run('per trade-date, consecutive days, 3 in flight, client reads bytes', at(1), span, {
    parse: false,
    concurrency: 3,
  });
  await run('per trade-date, consecutive days, 3 in flight, client JSON.parses', at(2), span, {
    parse: true,
    concurrency: 3,
  });
  await run('one trade-date-from/-to listing (ingest order), 3 in flight, JSON.parse', at(3), span, {
    range: true,
    parse: true,
    concurrency: 3,
  });
  await run('one trade-date-from/-to listing, 1 in flight, JSON.parse', at(4) - 1, span, {
    range: true,
    parse: true,
    concurrency: 1,
  });
  await run('per trade-date, days spread over the history (no prefetch), 3 in flight, JSON.parse', 0, span, {
    parse: true,
    concurrency: 3,
    spread: true,
  });
  agent.destroy();
  child.disconnect();
}
