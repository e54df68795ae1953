/**
 * The recovery score's quality on the shopper simulator's population, where every cart's true
 * purchase probability is known (`shopper-population.ts` documents it). For each size and seed:
 * the population in abandonment order goes through exactly the engine's learning step
 * (`trainChallenger`: trained on the earlier 80 %, judged on the most recent 20 % — the
 * validation window, never seen by the fit, the calibration included), and on the window's rows:
 *
 * - AUC of the model's score next to the AUC of the true probabilities (the best any model can do
 *   on those outcomes);
 * - ECE, 10 equal-width bins, of the score against the outcomes, next to the ECE of the true
 *   probabilities against the same outcomes (what sampling noise alone gives on that many rows);
 * - Brier score of both, and the mean |p̂ − p_true| (calibration against the truth, no outcome noise).
 *
 *   npm run bench:model-quality
 *   BENCH_SIZES=2000,20000,200000 BENCH_SEEDS=1,2,3,4,5 npm run bench:model-quality
 *
 * Goal (issue 14): ECE < 0.03 (on windows large enough to measure it: see the noise column).
 */
import { scoreRow } from '@reclaim/domain';
import { evaluate, predictProbability, rocAuc } from '@reclaim/learning';
import { trainChallenger, type TrainingRow } from '@reclaim/application';
import { shopperPopulation } from '@reclaim/application/learning/testing/shopper-population';

const SIZES = (process.env.BENCH_SIZES ?? '2000,20000,200000').split(',').map(Number);
const SEEDS = (process.env.BENCH_SEEDS ?? '1,2,3,4,5').split(',').map(Number);
const ECE_GOAL = 0.03;

interface Run {
  readonly size: number;
  readonly seed: number;
  readonly window: number;
  readonly auc: number;
  readonly trueAuc: number;
  readonly ece: number;
  readonly trueEce: number;
  readonly brier: number;
  readonly trueBrier: number;
  readonly meanAbs: number;
  readonly meanP: number;
  readonly rate: number;
  readonly seconds: number;
}

function run(size: number, seed: number): Run {
  const population = [...shopperPopulation(size, seed)];
  const truth = new Map(population.map((r) => [r.recoveryId, r.trueProbability]));
  const rows: TrainingRow[] = population.map((r) => ({
    recoveryId: r.recoveryId,
    shopId: 'bench',
    abandonedAt: r.abandonedAt,
    holdout: false,
    featureSchema: r.featureSchema,
    features: scoreRow(r.features),
    label: r.purchased,
  }));
  const t0 = process.hrtime.bigint();
  const { model, window } = trainChallenger(rows);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const y: number[] = window.map((r) => r.label);
  const p = window.map((r) => predictProbability(model, r.features));
  const t = window.map((r) => truth.get(r.recoveryId)!);
  const mine = evaluate(p, y);
  const best = evaluate(t, y);
  return {
    size,
    seed,
    window: window.length,
    auc: mine.auc,
    trueAuc: rocAuc(t, y),
    ece: mine.ece,
    trueEce: best.ece,
    brier: mine.brier,
    trueBrier: best.brier,
    meanAbs: p.reduce((s, v, i) => s + Math.abs(v - t[i]), 0) / p.length,
    meanP: p.reduce((s, v) => s + v, 0) / p.length,
    rate: y.reduce((s, v) => s + v, 0) / y.length,
    seconds,
  };
}

const f4 = (x: number) => x.toFixed(4);
const spread = (xs: number[]) => {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return `${f4(mean)} [${f4(Math.min(...xs))}–${f4(Math.max(...xs))}]`;
};

function main(): void {
  console.log(
    `shopper simulator population; engine trainer (trainChallenger): earlier 80 % → fit, most recent 20 % → judged`,
  );
  console.log(`sizes ${SIZES.join(', ')}; seeds ${SEEDS.join(', ')}`);
  console.log('');
  console.log(
    '   rows  seed  window |    AUC  true AUC |    ECE  true ECE |  Brier  true Brier | mean|p̂−p| | mean p̂  rate |  train s',
  );
  const bySize = new Map<number, Run[]>();
  for (const size of SIZES) {
    for (const seed of SEEDS) {
      const r = run(size, seed);
      bySize.set(size, [...(bySize.get(size) ?? []), r]);
      console.log(
        `${String(size).padStart(7)} ${String(seed).padStart(5)} ${String(r.window).padStart(7)} | ${f4(r.auc)}    ${f4(r.trueAuc)} | ` +
          `${f4(r.ece)}    ${f4(r.trueEce)} | ${f4(r.brier)}      ${f4(r.trueBrier)} |     ${f4(r.meanAbs)} | ${f4(r.meanP)} ${f4(r.rate)} | ${r.seconds.toFixed(1).padStart(8)}`,
      );
    }
  }
  console.log('');
  console.log('mean [min–max] over the seeds, on the validation window:');
  for (const [size, runs] of bySize) {
    const eces = runs.map((r) => r.ece);
    console.log(`${size} rows (window ${runs[0].window}):`);
    console.log(
      `  AUC        ${spread(runs.map((r) => r.auc))}   true probabilities ${spread(runs.map((r) => r.trueAuc))}`,
    );
    console.log(
      `  ECE        ${spread(eces)}   true probabilities ${spread(runs.map((r) => r.trueEce))}   goal < ${ECE_GOAL}: ${eces.every((e) => e < ECE_GOAL) ? 'met on every seed' : `NOT met on ${eces.filter((e) => e >= ECE_GOAL).length} of ${eces.length} seeds`}`,
    );
    console.log(
      `  Brier      ${spread(runs.map((r) => r.brier))}   true probabilities ${spread(runs.map((r) => r.trueBrier))}`,
    );
    console.log(`  mean |p̂ − p_true| ${spread(runs.map((r) => r.meanAbs))}`);
  }
}

main();
