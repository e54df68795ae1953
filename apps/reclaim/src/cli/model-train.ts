/**
 * `npm run cli -- model export --shop <id> [--out file] [--ids]`: the shop's recovery-score training
 * table from the event log as CSV (the file `model evaluate --label purchased` reads), and
 * `npm run cli -- model train --shop <id>`: one training now, with its champion/challenger outcome
 * (RFC 0011).
 */
import { writeFile } from 'node:fs/promises';
import {
  buildTrainingTable,
  trainingTableCsv,
  type ModelTrainer,
  type ModelTrainingSettings,
  type TrainingOutcome,
} from '@reclaim/application';
import type { EventStore } from '@reclaim/event-store';

export interface ModelCliIo {
  /** Standard output (the CSV without --out). */
  readonly out: (text: string) => void;
  readonly err: (line: string) => void;
}

export async function modelExport(
  store: EventStore,
  settings: Pick<ModelTrainingSettings, 'labelWindowMs'>,
  shopId: string,
  options: { readonly out?: string; readonly ids?: boolean; readonly now: Date; readonly io: ModelCliIo },
): Promise<number> {
  const rows = await buildTrainingTable(store, { shopId, labelWindowMs: settings.labelWindowMs, now: options.now });
  const csv = trainingTableCsv(rows, { ids: options.ids ?? false });
  const positives = rows.reduce((s, r) => s + r.label, 0);
  if (options.out !== undefined) {
    try {
      await writeFile(options.out, csv);
    } catch (err) {
      options.io.err(`cannot write ${options.out}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
  } else options.io.out(csv);
  options.io.err(
    `${rows.length} labelled recoveries (${positives} purchased within ${Math.round(settings.labelWindowMs / 3_600_000)} h)` +
      (options.out !== undefined ? ` written to ${options.out}` : ''),
  );
  return 0;
}

export function describeOutcome(o: TrainingOutcome): string {
  const fixed = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(4));
  switch (o.kind) {
    case 'promoted':
    case 'rejected': {
      const v = o.validation;
      const champion = o.champion
        ? `; live model v${o.champion.version} on the same window: AUC ${fixed(o.champion.auc)}, Brier ${fixed(o.champion.brier)}`
        : '';
      return (
        `model v${o.version} (${o.scope}, ${o.rows} training rows) ${o.kind}: ${o.reason}\n` +
        `validation window ${v.from} … ${v.to} (${v.rows} rows, ${v.positives} purchased): ` +
        `AUC ${fixed(v.auc)}, Brier ${fixed(v.brier)}, ECE ${fixed(v.ece)}${champion}`
      );
    }
    case 'skipped':
      return `no model: ${o.outcomes} labelled outcomes in the shop, ${o.pooledOutcomes} in all shops; ${o.needed} more needed`;
    case 'failed':
      return `training failed: ${o.error}`;
  }
}

export async function modelTrain(trainer: ModelTrainer, shopId: string, io: ModelCliIo): Promise<number> {
  const outcome = await trainer.train(shopId, 'on-demand');
  io.out(`${describeOutcome(outcome)}\n`);
  return outcome.kind === 'failed' ? 1 : 0;
}
