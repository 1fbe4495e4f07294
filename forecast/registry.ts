import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { Booster } from '../trainer/boosting/booster.ts';
import { DpmError } from '../runner/errors.ts';
import { z } from 'zod';
import { calibrationSchema } from './calibration.ts';
import { pointRuleSchema } from './target-scale.ts';
import type { FeatureSpec } from './features.ts';

/**
 * How to read a model's outputs: the target's units and the point forecast's shrink (forecast/target-scale.ts),
 * the intervals' conformal shifts. Stored in cv_metrics.card (the registry's JSON about the fit); a model
 * without one predicts dollars.
 */
export const modelCardSchema = z.object({
  targetScale: z.literal('starting_balance').optional(),
  pointRule: pointRuleSchema.optional(),
  calibration: calibrationSchema.optional(),
});
export type ModelCard = z.infer<typeof modelCardSchema>;

export interface RegisteredModel {
  modelVersion: string;
  objective: string;
  trainStart: string;
  trainEnd: string;
  params: Record<string, unknown>;
  features: FeatureSpec[];
  cvMetrics: unknown;
  baselineMetrics: unknown;
  featureImportance: { feature: string; gain: number; split: number }[];
  model: Booster;
  lower?: Booster;
  upper?: Booster;
  card?: ModelCard;
}

/** v1_YYYYMMDD_HHMMSS, as the original pipeline named versions. */
export function newVersion(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const day = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}`;
  return `v1_${day}_${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
}

/** Stores the model in dpm.model_registry (the one active model) and under model_artifacts/<version>/. */
export async function registerModel(knex: Knex, m: RegisteredModel, artifactsDir: string): Promise<string> {
  const dir = join(artifactsDir, m.modelVersion);
  const cvMetrics = m.card ? { ...(m.cvMetrics as object), card: m.card } : m.cvMetrics;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.txt'), m.model.toString());
  if (m.lower) writeFileSync(join(dir, 'lower.txt'), m.lower.toString());
  if (m.upper) writeFileSync(join(dir, 'upper.txt'), m.upper.toString());
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify(
      {
        model_version: m.modelVersion,
        objective: m.objective,
        train_start: m.trainStart,
        train_end: m.trainEnd,
        params: m.params,
        features: m.features,
        cv_metrics: cvMetrics,
        baseline_metrics: m.baselineMetrics,
        feature_importance: m.featureImportance,
      },
      null,
      1,
    ),
  );
  await knex.transaction(async (trx) => {
    await trx('dpm.model_registry').where({ is_active: true }).update({ is_active: false });
    await trx('dpm.model_registry').insert({
      model_version: m.modelVersion,
      is_active: true,
      objective: m.objective,
      train_start: m.trainStart,
      train_end: m.trainEnd,
      params: JSON.stringify(m.params),
      features: JSON.stringify(m.features),
      cv_metrics: JSON.stringify(cvMetrics),
      baseline_metrics: JSON.stringify(m.baselineMetrics),
      feature_importance: JSON.stringify(m.featureImportance),
      model_text: m.model.toString(),
      lower_model_text: m.lower?.toString() ?? null,
      upper_model_text: m.upper?.toString() ?? null,
      artifact_path: dir,
    });
  });
  return dir;
}

export interface LoadedModel {
  modelVersion: string;
  features: FeatureSpec[];
  model: Booster;
  lower?: Booster;
  upper?: Booster;
  params: Record<string, unknown>;
  card: ModelCard;
}

/** The active model, or a named version; parses the stored model text back into boosters. */
export async function loadModel(knex: Knex, version?: string): Promise<LoadedModel> {
  const row = await knex('dpm.model_registry')
    .where(version ? { model_version: version } : { is_active: true })
    .first();
  if (!row)
    throw new DpmError(
      version
        ? `model version ${version} is not in dpm.model_registry (dpm train registers models).`
        : 'no active model in dpm.model_registry: run dpm train first.',
    );
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  return {
    modelVersion: row.model_version,
    features: json(row.features),
    params: json(row.params),
    card: modelCardSchema.parse(json(row.cv_metrics)?.card ?? {}),
    model: Booster.fromString(row.model_text),
    lower: row.lower_model_text ? Booster.fromString(row.lower_model_text) : undefined,
    upper: row.upper_model_text ? Booster.fromString(row.upper_model_text) : undefined,
  };
}
