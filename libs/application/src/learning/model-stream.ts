/**
 * The shop's model stream (`model-<shop>`, RFC 0011) folded into what the trainer and the live-model
 * cache need: the last version, the live model (parsed and checked against its hash), and the
 * outcomes still needed when no model could be trained.
 */
import {
  modelStream,
  type ModelDecisionData,
  type ModelScope,
  type ModelTrainedData,
  type ModelTrainingFailedData,
  type ModelTrainingSkippedData,
} from '@reclaim/domain';
import { parseModel, type LogisticModel } from '@reclaim/learning';
import type { EventStore, ExpectedRevision } from '@reclaim/event-store';

export interface LiveModel {
  readonly version: number;
  readonly scope: ModelScope;
  readonly model: LogisticModel;
  readonly trainedAt: string;
}

export interface ModelStreamState {
  /** For the next append. */
  readonly expected: ExpectedRevision;
  readonly lastVersion: number;
  readonly live?: LiveModel;
  /** The last training skipped for too few outcomes (cleared by a later model). */
  readonly needed?: number;
  readonly lastFailure?: { readonly at: string; readonly error: string };
}

export async function readModelStream(store: EventStore, shopId: string): Promise<ModelStreamState> {
  const events = await store.readStream(modelStream(shopId));
  const trained = new Map<number, ModelTrainedData>();
  let lastVersion = 0;
  let live: LiveModel | undefined;
  let needed: number | undefined;
  let lastFailure: ModelStreamState['lastFailure'];
  for (const e of events) {
    switch (e.type) {
      case 'model.trained': {
        const d = e.data as ModelTrainedData;
        trained.set(d.version, d);
        lastVersion = Math.max(lastVersion, d.version);
        break;
      }
      case 'model.promoted': {
        const d = e.data as ModelDecisionData;
        const t = trained.get(d.version);
        if (t) {
          live = {
            version: d.version,
            scope: t.scope,
            model: parseModel(JSON.stringify(t.model)),
            trainedAt: t.trainedAt,
          };
          needed = undefined;
        }
        break;
      }
      case 'model.training-skipped':
        needed = (e.data as ModelTrainingSkippedData).needed;
        break;
      case 'model.training-failed': {
        const d = e.data as ModelTrainingFailedData;
        lastFailure = { at: d.at, error: d.error };
        break;
      }
      default:
        break;
    }
  }
  const last = events[events.length - 1];
  return {
    expected: last === undefined ? 'no_stream' : last.revision,
    lastVersion,
    ...(live ? { live } : {}),
    ...(needed !== undefined ? { needed } : {}),
    ...(lastFailure ? { lastFailure } : {}),
  };
}
