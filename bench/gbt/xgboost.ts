/**
 * A cross-check of `boosted-trees.ts` against XGBoost itself: `ml-xgboost` 1.1.2 (mljs, XGBoost of
 * 2018 compiled to WebAssembly, a devDependency used only here). With the same depth, learning rate
 * and number of rounds as the minimal trees chose, trained once on the same rows (the engine's
 * encoding: numerics standardised, categoricals one-hot, missing indicators — XGBoost of that age has
 * no categorical splits), its held-out AUC says whether the minimal implementation ranks as well as
 * the reference one. AUC only: no calibration, so no Brier or ECE (RFC 0009 says why this library is
 * not the main candidate: it fails above ~40,000 rows × 65 columns, and is slow).
 */
import { SCORE_COLUMN_KINDS, SCORE_COLUMNS } from '@reclaim/domain';
import { encode, fitEncoder, rocAuc, type FeatureRecord } from '@reclaim/learning';
import type { XGBoostConstructor } from 'ml-xgboost';

/** ml-xgboost copies the training matrix (float32) onto the WebAssembly stack (5 MB): 16,000 × 70 cells fit, 40,000 × 70 do not. */
export const XGBOOST_MAX_CELLS = 1_250_000;

export interface XgboostCheck {
  readonly auc: number;
  readonly trainSeconds: number;
}

export async function loadXgboost(): Promise<XGBoostConstructor> {
  // CommonJS module whose export is a promise of the class; loaded only when asked for (WebAssembly).
  const loaded = (await import('ml-xgboost')) as unknown as { default?: Promise<XGBoostConstructor> };
  return await (loaded.default ?? (loaded as unknown as Promise<XGBoostConstructor>));
}

/** Undefined when the table is too large for the library (the reason is the caller's to print). */
export function xgboostCheck(
  XGBoost: XGBoostConstructor,
  fit: readonly { readonly features: FeatureRecord; readonly label: number }[],
  window: readonly { readonly features: FeatureRecord; readonly label: number }[],
  settings: { readonly maxDepth: number; readonly learningRate: number; readonly rounds: number },
): XgboostCheck | undefined {
  const encoder = fitEncoder(
    fit.map((r) => r.features),
    { columns: SCORE_COLUMNS, kinds: SCORE_COLUMN_KINDS },
  );
  const dense = (rows: typeof fit) => rows.map((r) => Array.from(encode(encoder, r.features)));
  const x = dense(fit);
  if (x.length * (x[0]?.length ?? 0) > XGBOOST_MAX_CELLS) return undefined;
  const t0 = process.hrtime.bigint();
  const booster = new XGBoost({
    booster: 'gbtree',
    objective: 'binary:logitraw',
    max_depth: settings.maxDepth,
    eta: settings.learningRate,
    min_child_weight: 1,
    lambda: 1,
    subsample: 1,
    colsample_bytree: 1,
    silent: 1,
    iterations: settings.rounds,
  });
  try {
    booster.train(
      x,
      fit.map((r) => r.label),
    );
    const trainSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const margins = booster.predict(dense(window));
    return {
      auc: rocAuc(
        margins,
        window.map((r) => r.label),
      ),
      trainSeconds,
    };
  } finally {
    booster.free();
  }
}
