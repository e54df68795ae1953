/**
 * Do gradient-boosted trees beat the engine's logistic score? (Issue 14, item 2; RFC 0009,
 * "Gradient-boosted trees".) On the shopper simulator's population, in abandonment order, for each
 * size and seed: the engine's trainer (`trainChallenger`: the oldest 80 % fit, the newest 20 % the
 * validation window) and gradient-boosted trees (`bench/gbt/boosted-trees.ts`, fitted on the same
 * 80 %, calibrated the same way: Platt on 5-fold held-out scores) are judged on the same window:
 * AUC, Brier, ECE (10 equal-width bins), next to the true probabilities' own; training time, scoring
 * time per row, model size. Then the verdict per size against the margin the RFC fixed before the
 * first run, and a power check: the same features relabelled with a truth made of interactions,
 * where the trees should win by far (`interactionProbability`).
 *
 *   npm run bench:gbt
 *   BENCH_SIZES=2000,20000 BENCH_POWER=0 npm run bench:gbt
 *   BENCH_SIZES=20000 BENCH_SEEDS=101,102,103 BENCH_GBT=maxDepth=4,learningRate=0.05 npm run bench:gbt   (tuning seeds)
 *
 * BENCH_SEEDS (default 1,2,3) are used below 100,000 rows, BENCH_LARGE_SEEDS (default 1) from
 * 100,000 rows on (one 200,000-row run: the machine is shared). BENCH_POWER_SIZE (default 20000).
 * BENCH_XGBOOST=1 adds the cross-check with XGBoost (`gbt/xgboost.ts`: held-out AUC of ml-xgboost
 * trained with the minimal trees' depth, learning rate and rounds) where the table fits it.
 */
import { cpus, loadavg } from 'node:os';
import { compare, GBT_SETTINGS, MARGIN, verdict, type Comparison, type Truth } from './gbt/compare';
import type { BoostingOptions } from './gbt/boosted-trees';
import { loadXgboost, XGBOOST_MAX_CELLS } from './gbt/xgboost';
import type { XGBoostConstructor } from 'ml-xgboost';

const list = (v: string | undefined, fallback: string) => (v ?? fallback).split(',').filter(Boolean).map(Number);
const SIZES = list(process.env.BENCH_SIZES, '2000,20000,200000');
const SEEDS = list(process.env.BENCH_SEEDS, '1,2,3');
const LARGE_SEEDS = list(process.env.BENCH_LARGE_SEEDS, '1');
const POWER = process.env.BENCH_POWER !== '0';
const POWER_SIZE = Number(process.env.BENCH_POWER_SIZE ?? 20000);
const XGBOOST = process.env.BENCH_XGBOOST === '1';
/** The sizes whose verdicts decide (RFC 0009). */
const DECIDING = [20000, 200000];

function settings(): Omit<BoostingOptions, 'columns' | 'kinds'> {
  const out: Record<string, number> = { ...(GBT_SETTINGS as Record<string, number>) };
  for (const pair of (process.env.BENCH_GBT ?? '').split(',').filter(Boolean)) {
    const [key, value] = pair.split('=');
    if (!(key in out) || !Number.isFinite(Number(value)))
      throw new RangeError(`BENCH_GBT: ${pair} is not <setting>=<number> (settings: ${Object.keys(out).join(', ')})`);
    out[key] = Number(value);
  }
  return out;
}

const f4 = (x: number) => x.toFixed(4);
const pad = (s: string | number, n: number) => String(s).padStart(n);

function header(): void {
  console.log(
    '   rows  seed window  rate |  AUC log   gbt  true |  Brier log    gbt   true |  ECE log    gbt   true |' +
      ' train s log    gbt | µs/row log   gbt | KB log    gbt | rounds',
  );
}

function line(r: Comparison): void {
  const { logistic: l, gbt: g, truth: t } = r;
  const xgb =
    r.xgboost === undefined
      ? ''
      : r.xgboost === null
        ? ` | XGBoost: table over ${XGBOOST_MAX_CELLS} cells, not run`
        : ` | XGBoost AUC ${f4(r.xgboost.auc)} (${r.xgboost.trainSeconds.toFixed(1)} s)`;
  console.log(
    `${pad(r.size, 7)} ${pad(r.seed, 5)} ${pad(r.windowRows, 6)} ${f4(r.rate)} | ${f4(l.auc)} ${f4(g.auc)} ${f4(t.auc)} | ` +
      `${f4(l.brier)} ${f4(g.brier)} ${f4(t.brier)} | ${f4(l.ece)} ${f4(g.ece)} ${f4(t.ece)} | ` +
      `${pad(l.trainSeconds.toFixed(2), 11)} ${pad(g.trainSeconds.toFixed(2), 6)} | ` +
      `${pad(l.scoreMicrosPerRow.toFixed(1), 10)} ${pad(g.scoreMicrosPerRow.toFixed(1), 5)} | ` +
      `${pad((l.modelBytes / 1024).toFixed(1), 6)} ${pad((g.modelBytes / 1024).toFixed(1), 6)} | ${pad(g.rounds, 6)}${xgb}`,
  );
}

function judge(label: string, runs: Comparison[]): boolean {
  const v = verdict(runs);
  console.log(
    `${label}: ${v.win ? 'GBT WINS by the margin' : 'GBT does NOT win by the margin'} ` +
      `(headroom: true-probability AUC − logistic AUC ${f4(v.headroom)})`,
  );
  for (const c of v.checks) console.log(`  ${c.met ? 'met    ' : 'not met'}  ${c.name}: ${c.detail}`);
  return v.win;
}

function run(
  truth: Truth,
  sizes: readonly number[],
  s: Omit<BoostingOptions, 'columns' | 'kinds'>,
  xgboost?: XGBoostConstructor,
): Map<number, Comparison[]> {
  const bySize = new Map<number, Comparison[]>();
  header();
  for (const size of sizes) {
    for (const seed of size >= 100_000 ? LARGE_SEEDS : SEEDS) {
      const r = compare(size, seed, truth, s, xgboost);
      bySize.set(size, [...(bySize.get(size) ?? []), r]);
      line(r);
    }
  }
  return bySize;
}

async function main(): Promise<void> {
  const s = settings();
  const xgboost = XGBOOST ? await loadXgboost() : undefined;
  console.log('gradient-boosted trees vs the engine logistic score (trainChallenger), shopper simulator population');
  console.log(`time-ordered: oldest 80 % fit, newest 20 % judged; sizes ${SIZES.join(', ')}`);
  console.log(`seeds ${SEEDS.join(', ')} (below 100,000 rows), ${LARGE_SEEDS.join(', ')} (from 100,000 rows)`);
  console.log(
    `GBT: ${Object.entries(s)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}; both Platt-calibrated on 5-fold held-out scores`,
  );
  console.log(
    `margin (RFC 0009, fixed before the first run): AUC +${MARGIN.auc} on every seed, ECE within +${MARGIN.ece}, Brier no worse`,
  );
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} cores (timings are wall clock)`,
  );
  console.log('');
  const bySize = run('simulator', SIZES, s, xgboost);
  console.log('');
  const wins = new Map<number, boolean>();
  for (const [size, runs] of bySize) wins.set(size, judge(`${size} rows`, runs));
  const decided = DECIDING.filter((size) => wins.has(size));
  if (decided.length === DECIDING.length) {
    const adopt = DECIDING.every((size) => wins.get(size));
    console.log('');
    console.log(
      `decision (RFC 0009: a win at both ${DECIDING.join(' and ')} rows): ${adopt ? 'GBTs win — adopting them is worth proposing' : 'keep the logistic score'}`,
    );
  }
  if (POWER) {
    // With the chosen settings, and with depth-3 trees (which can represent interactions) when the
    // chosen depth is lower.
    for (const p of s.maxDepth !== undefined && s.maxDepth < 3 ? [s, { ...s, maxDepth: 3 }] : [s]) {
      console.log('');
      console.log(
        `power check: the same features, labels drawn from interactionProbability (${POWER_SIZE} rows), GBT maxDepth=${p.maxDepth}`,
      );
      const power = run('interactions', [POWER_SIZE], p);
      judge(`power check, ${POWER_SIZE} rows, maxDepth=${p.maxDepth}`, power.get(POWER_SIZE)!);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
