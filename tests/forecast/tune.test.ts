// The hyper-parameter search: TPE suggestions stay in the space and move toward good regions, the median
// pruner stops what is worse than the median, and trials never see the holdout fold.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../runner/errors.ts';
import { timeSeriesFolds } from '../../forecast/folds.ts';
import { SEARCH_SPACE, tuningFold } from '../../forecast/train-model.ts';
import { MedianPruner, TpeSampler, type Dimension, type Trial } from '../../forecast/tpe.ts';

const tune = suite('train --tune: TPE search, median pruning, holdout');

tune('every suggestion lies in the search space (ints whole, log ranges in bounds, choices from the list)', () => {
  const sampler = new TpeSampler(SEARCH_SPACE, 3);
  const history: Trial[] = [];
  for (let t = 0; t < 40; t++) {
    const p = sampler.suggest(history);
    for (const d of SEARCH_SPACE) {
      const v = p[d.name];
      if (d.kind === 'choice') assert.ok(d.choices.includes(String(v)), `${d.name}=${v}`);
      else {
        assert.ok(typeof v === 'number' && v >= d.low && v <= d.high, `${d.name}=${v} outside [${d.low}, ${d.high}]`);
        if (d.kind === 'int') assert.ok(Number.isInteger(v), `${d.name}=${v} is not whole`);
      }
    }
    history.push({ params: p, loss: (t * 7919) % 13 });
  }
});

tune('after the random start-up trials, suggestions concentrate where the loss is low', () => {
  const space: Dimension[] = [
    { name: 'lr', kind: 'float', low: 0.001, high: 1, log: true },
    { name: 'kind', kind: 'choice', choices: ['a', 'b', 'c'] },
  ];
  const loss = (p: Record<string, number | string>) => Math.log(Number(p.lr) / 0.05) ** 2 + (p.kind === 'b' ? 0 : 1);
  const sampler = new TpeSampler(space, 11);
  const history: Trial[] = [];
  for (let t = 0; t < 50; t++) {
    const p = sampler.suggest(history);
    history.push({ params: p, loss: loss(p) });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const startup = median(history.slice(0, 10).map((h) => h.loss));
  const guided = median(history.slice(30).map((h) => h.loss));
  assert.ok(
    guided < startup / 2,
    `median loss of the last 20 trials ${guided.toFixed(3)} vs the random ones ${startup.toFixed(3)}`,
  );
  assert.ok(history.slice(30).filter((h) => h.params.kind === 'b').length >= 12, 'the good choice dominates');
});

tune('the median pruner waits for its warm-up trials, then stops values worse than the median at that step', () => {
  const pruner = new MedianPruner(5);
  for (const v of [1, 2, 3, 4]) pruner.report(25, v);
  assert.not.ok(pruner.shouldPrune(25, 100), 'fewer than 5 trials: never prune');
  pruner.report(25, 5);
  assert.ok(pruner.shouldPrune(25, 3.5));
  assert.not.ok(pruner.shouldPrune(25, 2.5));
  assert.not.ok(pruner.shouldPrune(50, 100), 'no trial reported at step 50 yet');
});

tune('trials are scored on the fold before the last; the last fold (the holdout) is never used for the search', () => {
  const dates = Array.from({ length: 60 }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10));
  const folds = timeSeriesFolds(dates, 3, 7);
  const fold = tuningFold(folds);
  const holdout = folds[folds.length - 1];
  assert.equal(fold, folds[1]);
  assert.ok(fold.validEnd < holdout.validStart, `${fold.validEnd} before the holdout ${holdout.validStart}`);
  assert.throws(
    () => tuningFold(folds.slice(0, 1)),
    (e: unknown) => e instanceof UsageError && /--folds 2 or more/.test((e as Error).message),
  );
});

tune.run();
