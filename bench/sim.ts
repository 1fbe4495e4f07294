// Prints how fast the simulator generates closed trades and serves them through the API
// (2 000 accounts x 365 days by default; `--accounts N --days N --sample-days N` to change).
import { fork } from 'node:child_process';
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
  process.on('disconnect', () => void sim.close().then(() => process.exit(0)));
} else {

let t = performance.now();
const firm = generateFirm({ seed: 1, accounts, days });
const ledgerMs = performance.now() - t;
let total = 0;
for (let d = 0; d < days; d++) total += firm.closedTradeCount(d);
console.log(`firm ${accounts} slots x ${days} days: ${firm.ledger.accounts.length} accounts, ${fmt(total)} closed trades; ledger built in ${fmt(ledgerMs)} ms, heap ${fmt(process.memoryUsage().heapUsed / 2 ** 20)} MB`);

// Days spread over the history, each generated once (the per-day cache would otherwise flatter the numbers).
const picks = Array.from({ length: sample }, (_, k) => Math.floor((k * days) / sample));
t = performance.now();
let generated = 0;
for (const d of picks.slice(0, Math.ceil(sample / 2))) generated += firm.closedTrades(d).length;
const genS = (performance.now() - t) / 1000;
console.log(`generated: ${fmt(generated / genS)} trades/s (${fmt(generated)} trades)`);

t = performance.now();
let bytes = 0;
for (const d of picks.slice(0, Math.ceil(sample / 2))) for (const tr of firm.closedTrades(d)) bytes += closedTradeJson(tr).length;
console.log(`serialised (cached days): ${fmt(generated / ((performance.now() - t) / 1000))} trades/s, ${fmt(bytes / generated)} bytes/trade`);

const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--child'], { execArgv: ['--import', 'tsx'] });
const url = await new Promise<string>((resolve) => child.once('message', (m) => resolve(String(m))));
// Warm-up: the child builds its ledger and JIT before timing.
await (await fetch(`${url}v2/regimes/daily?apiKey=bench&dates=${firm.cal.ymd(0)}`)).text();
let served = 0;
let servedParsed = 0;
let parsedS = 0;
t = performance.now();
const half = picks.slice(Math.ceil(sample / 2));
const pages = async (d: number, parse: boolean) => {
  const date = firm.cal.ymd(d);
  for (let skip = 0; ; ) {
    const res = await fetch(`${url}v2/trades/closed?apiKey=bench&trade-date=${date}&limit=1000&skip=${skip}`);
    const text = await res.text();
    const count = parse ? (JSON.parse(text) as { Data: { count: number } }).Data.count : Number(/"count":(\d+)}}$/.exec(text)![1]);
    skip += count;
    if (parse) servedParsed += count;
    else served += count;
    if (count < 1000) break;
  }
};
for (const d of half.filter((_, k) => k % 2 === 0)) await pages(d, false);
const serveS = (performance.now() - t) / 1000;
t = performance.now();
for (const d of half.filter((_, k) => k % 2 === 1)) await pages(d, true);
parsedS = (performance.now() - t) / 1000;
console.log(`served over HTTP (fresh days: generate + serialise + send; client reads bytes): ${fmt(served / serveS)} trades/s (${fmt(served)} trades)`);
console.log(`served over HTTP, client also JSON.parses every page: ${fmt(servedParsed / parsedS)} trades/s (${fmt(servedParsed)} trades)`);
child.disconnect();
}
