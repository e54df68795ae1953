/**
 * Training the recovery score on BENCH_ROWS labelled recoveries (default 1,000,000) with exactly the
 * engine's trainer: `trainChallenger` — the learning step of `ModelTrainer.train` (RFC 0011 §3):
 * the most recent 20 % held out as the validation window, the challenger trained on the rest
 * (encoder, L2 logistic regression, Platt calibration on 5 held-out folds, the final fit), both it
 * and a live champion scored on the window, the promotion rule applied.
 *
 *   npm run bench:training
 *   BENCH_ROWS=100000 npm run bench:training
 *
 * The rows are the shopper simulator's population (`shopper-population.ts`): recorded feature
 * vectors (`RecoveryFeatures`), turned into model rows by the domain's `scoreRow` as the training
 * table does, labelled from their true purchase probability. Reading them from the event log
 * (`buildTrainingTable`) is not part of this bench. Goal (issue 14): < 2 min and < 1 GB peak RSS
 * on the 2-core machine. Absolute figures: the peak RSS is the process's (`maxRSS`), table
 * included, as in the engine, which holds the table while it trains.
 */
import { cpus, loadavg } from 'node:os';
import { scoreRow } from '@reclaim/domain';
import { trainChallenger, type TrainingRow } from '@reclaim/application';
import { shopperPopulation } from '@reclaim/application/learning/testing/shopper-population';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const TIME_GOAL_S = 120;
const RSS_GOAL_MB = 1024;

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;

function table(): TrainingRow[] {
  const rows: TrainingRow[] = [];
  for (const r of shopperPopulation(ROWS, SEED)) {
    rows.push({
      recoveryId: r.recoveryId,
      shopId: 'bench',
      abandonedAt: r.abandonedAt,
      holdout: false,
      featureSchema: r.featureSchema,
      features: scoreRow(r.features),
      label: r.purchased,
    });
  }
  return rows;
}

function main(): void {
  const t0 = process.hrtime.bigint();
  const rows = table();
  const tableS = Number(process.hrtime.bigint() - t0) / 1e9;
  const rssTable = process.memoryUsage().rss;
  console.log(
    `table: ${rows.length} rows (${rows.reduce((s, r) => s + r.label, 0)} bought) in ${tableS.toFixed(1)} s; ` +
      `RSS ${mb(rssTable)} MB holding it (peak so far ${peakRssMb().toFixed(0)} MB)`,
  );

  // A champion to compare with, as in every training after the first: trained the same way on an
  // older, smaller table (not timed).
  const champion = trainChallenger(rows.slice(0, Math.min(20_000, Math.floor(rows.length / 10))));

  const t1 = process.hrtime.bigint();
  const cpu1 = process.cpuUsage();
  const result = trainChallenger(rows, { version: 1, model: champion.model });
  const trainS = Number(process.hrtime.bigint() - t1) / 1e9;
  const cpu = process.cpuUsage(cpu1);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const peak = peakRssMb();
  const v = result.validation;
  console.log(
    `trainChallenger: ${result.fit.length} training rows, ${result.window.length} in the validation window, ` +
      `${result.model.features.length} encoded features, ${result.model.training.iterations} Newton iterations (final fit)`,
  );
  console.log(
    `  challenger on the window: AUC ${v.auc} Brier ${v.brier} ECE ${v.ece}; champion AUC ${result.champion?.auc}; ` +
      `decision ${result.decision.promote ? 'promote' : 'reject'} (${result.decision.reason})`,
  );
  console.log('');
  console.log(
    `training time   ${trainS.toFixed(1)} s wall   (goal < ${TIME_GOAL_S} s: ${trainS < TIME_GOAL_S ? 'met' : 'NOT met'})`,
  );
  console.log(
    `                ${cpuS.toFixed(1)} s CPU (user + system; the wall time on a machine shared with other work is longer)`,
  );
  console.log(
    `load average    ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} cores`,
  );
  console.log(
    `peak RSS        ${peak.toFixed(0)} MB   (goal < ${RSS_GOAL_MB} MB: ${peak < RSS_GOAL_MB ? 'met' : 'NOT met'})`,
  );
  console.log(`  of which the table held in memory: ~${mb(rssTable)} MB RSS before training`);
}

main();
