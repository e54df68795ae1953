import type { PoolClient } from 'pg';
import type {
  ModelDecisionData,
  ModelTrainedData,
  ModelTrainingFailedData,
  ModelTrainingSkippedData,
} from '@reclaim/domain';
import type { RecordedEvent } from '@reclaim/event-store';
import { MODEL_STATUS, MODELS } from '../schema';
import {
  purgeShop,
  purgeShopRows,
  shopOfRedaction,
  splitAtShopRedactions,
  SHOP_REDACTED,
  type ApplyOptions,
  type Projection,
} from './projection';
import { alreadyApplied, positionText, RowSet, type Row } from './rows';

interface Tables {
  readonly models: RowSet;
  readonly status: RowSet;
}

/**
 * Folds one `model.*` event (RFC 0011) into `read.models` (the model card of each version) and
 * `read.model_status` (the shop's live model and last training outcome). A promotion retires the
 * previous live version.
 */
export function applyModelEvent(t: Tables, e: RecordedEvent): void {
  const shopId = (e.data as { shopId: string }).shopId;
  const position = positionText(e);
  const status: Row = t.status.get({ shop_id: shopId }) ?? { shop_id: shopId, failures: 0 };
  if (alreadyApplied(status, e)) return;
  status.position = position;
  const model = (version: number): Row =>
    t.models.get({ shop_id: shopId, version }) ?? { shop_id: shopId, version, status: 'trained' };
  switch (e.type) {
    case 'model.trained': {
      const d = e.data as ModelTrainedData;
      const v = d.validation;
      t.models.put({
        ...model(d.version),
        scope: d.scope,
        trigger: d.trigger,
        trained_at: d.trainedAt,
        training_from: d.trainingWindow.from,
        training_to: d.trainingWindow.to,
        label_window_ms: String(d.labelWindowMs),
        rows: d.rows,
        positives: d.positives,
        validation_rows: v.rows,
        validation_positives: v.positives,
        validation_from: v.from,
        validation_to: v.to,
        auc: v.auc,
        brier: v.brier,
        ece: v.ece,
        reliability: JSON.stringify(v.reliability),
        top_features: JSON.stringify(d.importances),
        content_hash: d.contentHash,
        position,
      });
      break;
    }
    case 'model.promoted':
    case 'model.rejected': {
      const d = e.data as ModelDecisionData;
      const promoted = e.type === 'model.promoted';
      if (promoted && typeof status.live_version === 'number' && status.live_version !== d.version) {
        t.models.put({ ...model(status.live_version), status: 'retired', retired_at: d.at, position });
      }
      t.models.put({
        ...model(d.version),
        status: promoted ? 'live' : 'rejected',
        decision_reason: d.reason,
        champion_auc: d.champion?.auc ?? null,
        champion_brier: d.champion?.brier ?? null,
        champion_version: d.champion?.version ?? null,
        decided_at: d.at,
        position,
      });
      Object.assign(status, {
        last_outcome: promoted ? 'promoted' : 'rejected',
        last_at: d.at,
        outcomes_needed: null,
        ...(promoted ? { live_version: d.version, live_scope: model(d.version).scope ?? null } : {}),
      });
      break;
    }
    case 'model.training-skipped': {
      const d = e.data as ModelTrainingSkippedData;
      Object.assign(status, {
        last_outcome: 'skipped',
        last_at: d.at,
        outcomes: d.outcomes,
        pooled_outcomes: d.pooledOutcomes,
        outcomes_needed: d.needed,
      });
      break;
    }
    case 'model.training-failed': {
      const d = e.data as ModelTrainingFailedData;
      Object.assign(status, {
        last_outcome: 'failed',
        last_at: d.at,
        failures: Number(status.failures ?? 0) + 1,
        last_error: d.error,
        last_failed_at: d.at,
      });
      break;
    }
    default:
      return;
  }
  t.status.put(status);
}

export const modelsProjection: Projection = {
  name: 'models',
  subscription: 'read-models.models',
  filter: { typePrefixes: ['model.', SHOP_REDACTED] },
  tables: [MODELS, MODEL_STATUS],
  async apply(events: readonly RecordedEvent[], tx: PoolClient, options?: ApplyOptions): Promise<void> {
    // A rebuild folds into its session's rows and touches no table (RebuildSession).
    const kept = options?.session?.state<Tables>(() => ({
      models: new RowSet(MODELS, { complete: true }),
      status: new RowSet(MODEL_STATUS, { complete: true }),
    }));
    for (const part of splitAtShopRedactions(events)) {
      if (!Array.isArray(part)) {
        if (kept) purgeShopRows({ ...kept }, shopOfRedaction(part));
        else await purgeShop(tx, [MODELS, MODEL_STATUS], shopOfRedaction(part));
        continue;
      }
      const t: Tables = kept ?? { models: new RowSet(MODELS), status: new RowSet(MODEL_STATUS) };
      const shops = [...new Set(part.map((e) => (e.data as { shopId: string }).shopId))];
      await t.status.loadBy(tx, 'shop_id', shops);
      await t.models.loadBy(tx, 'shop_id', shops);
      for (const e of part) applyModelEvent(t, e);
      await t.models.flush(tx);
      await t.status.flush(tx);
    }
  },
};
