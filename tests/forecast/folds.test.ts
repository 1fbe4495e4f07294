// Time-series cross-validation never lets a fold see its future: property checks of the fold layout over many
// calendars and configurations, and a look at exactly which rows cross-validation hands the trainer.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Dataset } from '../../trainer/io/dataset.ts';
import { train } from '../../trainer/boosting/boosting.ts';
import { timeSeriesFolds } from '../../forecast/folds.ts';
import { crossValidate } from '../../forecast/cross-validate.ts';
import type { Matrix } from '../../forecast/matrix.ts';

const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
const ms = (d: string) => Date.parse(`${d}T00:00:00Z`);

/**
 * Calendars of feature dates: every day, weekdays only, and days missing at random (a small LCG keeps it
 * deterministic).
 */
function calendars(): { name: string; days: string[] }[] {
  const start = ms('2024-01-01');
  const every = Array.from({ length: 60 }, (_, i) => iso(start + i * DAY));
  const weekdays = every.filter((d) => new Date(ms(d)).getUTCDay() % 6 !== 0);
  let x = 7;
  const holes = every.filter(() => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31 > 0.2;
  });
  return [
    { name: 'every day', days: every },
    { name: 'weekdays', days: weekdays },
    { name: 'random holes', days: holes },
  ];
}

const test = suite('product: time-series folds');

test('every fold trains only on days before its validation window, with the gap, expanding, in order', () => {
  let checked = 0;
  for (const { name, days } of calendars()) {
    // Several rows per day, in shuffled order: the folds must depend on dates, not on row order.
    const rows = days.flatMap((d) => [d, d, d]).reverse();
    for (const folds of [1, 2, 3, 4]) {
      for (const validDays of [1, 3, 7]) {
        for (const gap of [1, 2]) {
          const what = `${name}, ${folds} folds x ${validDays} days, gap ${gap}`;
          const out = timeSeriesFolds(rows, folds, validDays, gap);
          assert.is(out.length, folds, what);
          for (const [k, f] of out.entries()) {
            const train = days.filter((d) => d <= f.trainEnd);
            const valid = days.filter((d) => d >= f.validStart && d <= f.validEnd);
            assert.is(valid.length, validDays, `${what}: fold ${k} validates on ${valid.length} days`);
            assert.ok(train.length > 0, `${what}: fold ${k} has no training day`);
            // No training day at or after the validation window, and at least `gap` calendar days between.
            assert.ok(
              ms(f.trainEnd) + gap * DAY < ms(f.validStart),
              `${what}: fold ${k} trains to ${f.trainEnd}, validates from ${f.validStart}`,
            );
            assert.ok(
              train.every((d) => d < f.validStart),
              what,
            );
            if (k > 0) {
              const prev = out[k - 1];
              assert.ok(f.trainEnd > prev.trainEnd, `${what}: training windows expand`);
              // Windows are consecutive: the day after the previous window's last day starts this one.
              assert.is(
                f.validStart,
                days[days.indexOf(prev.validEnd) + 1],
                `${what}: fold ${k} follows fold ${k - 1}`,
              );
            }
            checked++;
          }
          assert.is(
            out[out.length - 1].validEnd,
            days[days.length - 1],
            `${what}: the last window ends on the last day`,
          );
        }
      }
    }
  }
  assert.ok(checked > 100, `${checked} folds checked`);
});

test('too few days for the folds is an error naming the flags to change', () => {
  const days = calendars()[0].days.slice(0, 20);
  assert.throws(
    () => timeSeriesFolds(days, 3, 7),
    /20 feature days are too few for 3 folds of 7 days.*--folds\/--valid-days/,
  );
  assert.is(timeSeriesFolds(days, 1, 7).length, 1);
});

test(
  "cross-validation feeds each fold's trainer only rows up to its training end, " + 'and validates on its window only',
  async () => {
    // Five accounts over 40 days; the label is the day index, so the rows a fold was fed can be read back from
    // the label.
    const days = calendars()[0].days.slice(0, 40);
    const dates = days.flatMap((d) => Array(5).fill(d) as string[]);
    const dayIndex = Float64Array.from(dates, (d) => days.indexOf(d));
    let x = 3;
    const noise = Float64Array.from(dates, () => {
      x = (x * 69069 + 1) % 2 ** 32;
      return x / 2 ** 32;
    });
    const m: Matrix = {
      features: [{ name: 'noise' }, { name: 'net_profit' }],
      columns: [noise, noise.map((v) => v * 10)],
      dates,
      accounts: dates.map((_, i) => `a${i % 5}`),
      label: dayIndex,
      n: dates.length,
    };
    const folds = timeSeriesFolds(dates, 3, 5);
    const fed: { train: number[]; valid: number[] }[] = [];
    const spy: typeof train = (params, dataset, options) => {
      const labels = (d: Dataset) => [...new Set(d.label)].sort((a, b) => a - b);
      fed.push({ train: labels(dataset), valid: options?.valid?.length === 1 ? labels(options.valid[0]) : [] });
      return train(params, dataset, options);
    };
    const cv = await crossValidate(
      m,
      folds,
      { objective: 'regression_l1', num_iterations: 5, min_data_in_leaf: 5 },
      { earlyStopping: 5, fit: spy },
    );
    assert.is(fed.length, folds.length);
    for (const [k, f] of folds.entries()) {
      const trainEnd = days.indexOf(f.trainEnd);
      assert.equal(
        fed[k].train,
        Array.from({ length: trainEnd + 1 }, (_, i) => i),
        `fold ${k} is fed every day up to ${f.trainEnd} and none after`,
      );
      const [from, to] = [days.indexOf(f.validStart), days.indexOf(f.validEnd)];
      assert.equal(
        fed[k].valid,
        Array.from({ length: to - from + 1 }, (_, i) => from + i),
        `fold ${k} validates on ${f.validStart}..${f.validEnd} only`,
      );
      assert.is(cv.folds[k].trainRows, (trainEnd + 1) * 5);
      assert.is(cv.folds[k].validRows, 25);
    }
  },
);

test.run();
