/**
 * `npm run cli -- model evaluate --csv <file> --label <column> [--folds 5] [--seed N]`: stratified
 * k-fold cross-validation of exactly the trainer the engine uses (`@reclaim/learning`'s `train`:
 * L2 logistic regression with Platt calibration on held-out folds) on any labelled CSV. Prints the
 * pooled out-of-fold AUC, Brier score, expected calibration error and a 10-bin reliability table.
 */
import { Presets, SingleBar } from 'cli-progress';
import { readFile } from 'node:fs/promises';
import { crossValidate, MODEL_FORMAT, TrainingDataError, type CrossValidationResult } from '@reclaim/learning';
import { readLabelledTable, TableError, type LabelledTable } from './labelled-table';

export interface CliOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Show a progress bar on stderr (off in tests). */
  readonly progress?: boolean;
}

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

function wholeNumber(value: string | undefined, name: string, min: number): number | string {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < min) {
    return `${name} must be a whole number ≥ ${min}`;
  }
  return Number(value);
}

export async function modelEvaluate(args: readonly string[], io: CliOutput): Promise<number> {
  const file = option(args, '--csv');
  const label = option(args, '--label');
  if (!file || !label) {
    io.err('usage: npm run cli -- model evaluate --csv <file> --label <column> [--folds 5] [--seed N]');
    return 2;
  }
  const folds = args.includes('--folds') ? wholeNumber(option(args, '--folds'), '--folds', 2) : 5;
  const seed = args.includes('--seed') ? wholeNumber(option(args, '--seed'), '--seed', 0) : 1;
  for (const v of [folds, seed]) {
    if (typeof v === 'string') {
      io.err(v);
      return 2;
    }
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    io.err(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  let table: LabelledTable;
  let result: CrossValidationResult;
  const bar = io.progress
    ? new SingleBar(
        { format: 'cross-validation [{bar}] {value}/{total} folds | ETA {eta_formatted}' },
        Presets.shades_classic,
      )
    : undefined;
  try {
    table = readLabelledTable(text, label);
    const kinds = Object.fromEntries(
      table.columns.map((c) => [c.name, c.kind === 'categorical' ? ('categorical' as const) : ('numeric' as const)]),
    );
    bar?.start(folds as number, 0);
    result = crossValidate(table.rows, table.labels, {
      folds: folds as number,
      seed: seed as number,
      columns: table.columns.map((c) => c.name),
      kinds,
      onFold: (done) => bar?.update(done),
    });
    bar?.stop();
  } catch (err) {
    bar?.stop();
    if (err instanceof TableError || err instanceof TrainingDataError) {
      io.err(`${file}: ${err.message}`);
      return 1;
    }
    throw err;
  }
  for (const line of formatEvaluation(table, result)) io.out(line);
  return 0;
}

const fixed = (x: number, digits = 4): string => (Number.isNaN(x) ? '-' : x.toFixed(digits));

export function formatEvaluation(table: LabelledTable, result: CrossValidationResult): string[] {
  const m = result.metrics;
  const count = (kind: string) => table.columns.filter((c) => c.kind === kind).length;
  const lines = [
    `${m.rows} rows (${m.positives} positive, ${m.rows - m.positives} negative) labelled by "${table.label}"; ` +
      `${table.columns.length} feature columns (${count('numeric')} numeric, ${count('boolean')} boolean, ${count('categorical')} categorical)`,
    `trainer ${MODEL_FORMAT}: L2 logistic regression, Platt calibration on held-out folds`,
    `stratified ${result.folds}-fold cross-validation, seed ${result.seed}; every figure is out-of-fold`,
    '',
    `AUC    ${fixed(m.auc)}   (per fold ${result.perFold.map((f) => fixed(f.auc, 3)).join(' ')})`,
    `Brier  ${fixed(m.brier)}`,
    `ECE    ${fixed(m.ece)}   (expected calibration error, 10 bins)`,
    '',
    'calibration   rows  mean predicted  observed rate',
  ];
  for (const b of m.reliability) {
    lines.push(
      `${b.lower.toFixed(1)}-${b.upper.toFixed(1)}  ${String(b.count).padStart(8)}  ${fixed(b.meanPredicted, 3).padStart(14)}  ${fixed(b.observedRate, 3).padStart(13)}`,
    );
  }
  return lines;
}
