/**
 * Assignment latency per recovery (issue 15, goal p99 ≤ 1 ms): the domain's decisions a recovery
 * takes from its experiments and its incentive —
 *
 * - at its start, `assignVariant` for each step with variants (RFC 0016): the variants' posteriors
 *   from their settled evidence, a Thompson draw and the propensity (probability of being best by
 *   `draws` Monte-Carlo draws, the shop's `experiments.draws`, default 1,000) — computed once per
 *   evidence (`probabilitiesOf`, memoised), so only an assignment on evidence that changed since the
 *   experiment's previous assignment pays for the draws: BENCH_NEW_EVIDENCE is that share (default
 *   0.01; the engine's snapshots change when outcomes settle, at most once per snapshot cache period).
 *   The engine computes a refreshed snapshot's propensities when it loads it (`warmPropensities`,
 *   timed apart here as "snapshot warming"); BENCH_WARM=0 leaves it to the assignment instead;
 * - at its first discount step, `chooseIncentive` with the learned policy (RFC 0017): the levels'
 *   Beta posteriors from the segment's final outcomes, the expected incremental profit of each
 *   level (decimal arithmetic) and the ε-greedy choice with its propensity.
 *
 *   npm run bench:assignment
 *   BENCH_RECOVERIES=10000 BENCH_VARIANT_STEPS=3 BENCH_VARIANTS=4 BENCH_DRAWS=1000 BENCH_NEW_EVIDENCE=0.05 npm run bench:assignment
 *
 * Evidence sizes: every variant of every experiment has thousands of settled recoveries (drawn per
 * experiment at random: 200–20,000 settled, recovery rate 5–25 %, net revenue per recovery 40–160),
 * every incentive level of every segment 100–10,000 final outcomes; 10 experiments per step and 7 segments,
 * a recovery picks one of each at random. Each recovery (all its steps' assignments and its
 * incentive choice) is timed alone with `process.hrtime.bigint()` after BENCH_WARMUP recoveries.
 *
 * Baseline, interleaved in the same loop: per step with variants only the posteriors and one
 * Thompson draw (what the assignment costs without its propensity's `draws` Monte-Carlo draws).
 *
 * Not timed: the reads that bring the evidence in (the engine's experiment snapshots are cached per
 * shop; the incentive evidence is one indexed `GROUP BY` on `engine.incentive_assignments`) and the
 * append of the events; this measures the decisions' arithmetic and sampling.
 */
import {
  assignVariant,
  chooseIncentive,
  DEFAULT_INCENTIVE_SETTINGS,
  posteriorsOf,
  seededUniform,
  seedOf,
  thompsonChoice,
  warmPropensities,
  type ExperimentSnapshot,
  type IncentiveEvidence,
  type Segment,
  type StepVariant,
} from '@reclaim/domain';

const RECOVERIES = Number(process.env.BENCH_RECOVERIES ?? 10_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1_000);
const VARIANT_STEPS = Number(process.env.BENCH_VARIANT_STEPS ?? 2);
const VARIANTS = Number(process.env.BENCH_VARIANTS ?? 3);
const DRAWS = Number(process.env.BENCH_DRAWS ?? 1_000);
/** Share of assignments whose experiment's settled evidence changed since its previous assignment. */
const NEW_EVIDENCE = Number(process.env.BENCH_NEW_EVIDENCE ?? 0.01);
/** 1 (the engine): new evidence is warmed when the snapshot is refreshed (timed apart); 0: the assignment computes. */
const WARM = process.env.BENCH_WARM !== '0';
/** Experiments per step with variants (an experiment is one step's: its id names the step). */
const EXPERIMENTS = 10;
const SEGMENTS: Segment[] = [
  'new',
  'returning',
  'vip',
  'high-value-cart',
  'price-sensitive',
  'mobile-checkout-friction',
  'returning-exploring-new-category',
];
const LADDER = [0, 5, 10, 15];
const GOAL_MS = 1;

for (const [name, v, min] of [
  ['BENCH_RECOVERIES', RECOVERIES, 1],
  ['BENCH_WARMUP', WARMUP, 0],
  ['BENCH_VARIANT_STEPS', VARIANT_STEPS, 0],
  ['BENCH_VARIANTS', VARIANTS, 2],
  ['BENCH_DRAWS', DRAWS, 100],
] as const) {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min} (got ${String(v)})`);
}

const rand = seededUniform(20261206);
const between = (lo: number, hi: number) => lo + (hi - lo) * rand();
const intBetween = (lo: number, hi: number) => Math.floor(between(lo, hi + 1));

const variants: StepVariant[] = Array.from({ length: VARIANTS }, (_, i) => ({ id: `v${i}`, subject: `Subject ${i}` }));

/** A snapshot of a running experiment: every variant with its settled evidence. */
function snapshot(): ExperimentSnapshot {
  return {
    status: 'running',
    stoppedVariantIds: [],
    arms: variants.map((v) => {
      const settled = intBetween(200, 20_000);
      const recovered = Math.round(settled * between(0.05, 0.25));
      const mean = between(40, 160);
      const sd = mean * 0.6;
      return {
        variantId: v.id,
        settled,
        recovered,
        netRevenue: recovered * mean,
        netRevenueSquares: recovered * (sd * sd + mean * mean),
      };
    }),
  };
}

function incentiveEvidence(segment: string): IncentiveEvidence {
  return {
    segment,
    levels: LADDER.map((percent) => {
      const assigned = intBetween(100, 10_000);
      return { percent, assigned, recovered: Math.round(assigned * between(0.08, 0.3)) };
    }),
  };
}

if (!(NEW_EVIDENCE >= 0 && NEW_EVIDENCE <= 1)) {
  throw new Error(`BENCH_NEW_EVIDENCE must be a share from 0 to 1 (got ${process.env.BENCH_NEW_EVIDENCE})`);
}

const experiments = Array.from({ length: EXPERIMENTS * Math.max(VARIANT_STEPS, 1) }, (_, k) => ({
  id: `seq${k % EXPERIMENTS}@1.s${Math.floor(k / EXPERIMENTS)}.new`,
  snapshot: snapshot(),
}));
/** The experiment of step `step` recovery i meets. */
const experimentOf = (i: number, step: number) => experiments[step * EXPERIMENTS + ((i * 7) % EXPERIMENTS)];

/** One more settled recovery for an experiment (its evidence changes: the propensity is computed anew). */
function settleOne(x: (typeof experiments)[number]): void {
  const [first, ...rest] = x.snapshot.arms;
  x.snapshot = { ...x.snapshot, arms: [{ ...first, settled: first.settled + 1 }, ...rest] };
}

/** Time spent warming refreshed snapshots (ns each), off the recoveries' path. */
const warmings: number[] = [];

/**
 * Before recovery i (not timed with it): each experiment it meets has new evidence with probability
 * NEW_EVIDENCE; with WARM, the refreshed snapshot's propensities are computed then, as the engine's
 * `ExperimentSource` does.
 */
function newEvidenceFor(i: number): number {
  let changed = 0;
  for (let step = 0; step < VARIANT_STEPS; step++) {
    if (rand() < NEW_EVIDENCE) {
      const x = experimentOf(i, step);
      settleOne(x);
      changed++;
      if (WARM) {
        const s = process.hrtime.bigint();
        warmPropensities(
          x.id,
          step,
          variants.map((v) => v.id),
          x.snapshot,
          DRAWS,
        );
        warmings.push(Number(process.hrtime.bigint() - s));
      }
    }
  }
  return changed;
}
const evidence = new Map(SEGMENTS.map((s) => [s, incentiveEvidence(s)]));
const settings = { ...DEFAULT_INCENTIVE_SETTINGS, policy: 'learned' as const };
const at = '2026-12-06T00:00:00.000Z';

/** A recovery's variant assignments (one per step with variants). */
function variantsOf(i: number): number {
  const segment = SEGMENTS[i % SEGMENTS.length];
  let sink = 0;
  for (let step = 0; step < VARIANT_STEPS; step++) {
    const x = experimentOf(i, step);
    const a = assignVariant({
      step,
      variants,
      experimentId: x.id,
      segment,
      snapshot: x.snapshot,
      seed: (i * 2654435761) >>> 0,
      draws: DRAWS,
      at,
    });
    sink += a?.propensity ?? 0;
  }
  return sink;
}

/** Baseline: per step only the posteriors and one Thompson draw, without the propensity's Monte-Carlo draws. */
function drawOnlyOf(i: number): number {
  let sink = 0;
  for (let step = 0; step < VARIANT_STEPS; step++) {
    const x = experimentOf(i, step);
    sink += thompsonChoice(
      posteriorsOf(x.snapshot.arms),
      seededUniform(seedOf(`${x.id}#${step}`, (i * 2654435761) >>> 0)),
    );
  }
  return sink;
}

/** A recovery's incentive level. */
function incentiveOf(i: number): number {
  const segment = SEGMENTS[i % SEGMENTS.length];
  const choice = chooseIncentive({
    ladder: LADDER.slice(1),
    stepPercent: 10,
    cartValue: (20 + (i % 400)).toFixed(2),
    segment,
    settings,
    evidence: evidence.get(segment),
    draw: rand(),
  });
  return choice.propensity;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Each recovery's time for its variant assignments, its incentive choice and both, in ns. */
function main(): void {
  let sink = 0;
  for (let i = 0; i < WARMUP; i++) sink += variantsOf(i) + incentiveOf(i);
  const parts = { variants: new Float64Array(RECOVERIES), incentive: new Float64Array(RECOVERIES) };
  const total = new Float64Array(RECOVERIES);
  const baseline = new Float64Array(RECOVERIES);
  const t0 = process.hrtime.bigint();
  let changed = 0;
  for (let i = 0; i < RECOVERIES; i++) {
    changed += newEvidenceFor(WARMUP + i);
    const s = process.hrtime.bigint();
    sink += variantsOf(WARMUP + i);
    const m = process.hrtime.bigint();
    sink += incentiveOf(WARMUP + i);
    const e = process.hrtime.bigint();
    parts.variants[i] = Number(m - s);
    parts.incentive[i] = Number(e - m);
    total[i] = Number(e - s);
    sink += drawOnlyOf(WARMUP + i);
    baseline[i] = Number(process.hrtime.bigint() - e);
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(
    `assignment per recovery: ${RECOVERIES} recoveries, ${VARIANT_STEPS} step(s) × ${VARIANTS} variants (${DRAWS} draws), ` +
      `incentive choice over ${LADDER.length} levels (learned, ε ${settings.explorationPercent} %); ` +
      `${changed} of ${RECOVERIES * VARIANT_STEPS} assignments on new evidence (BENCH_NEW_EVIDENCE ${NEW_EVIDENCE}, ` +
      `${WARM ? 'warmed at the snapshot refresh' : 'computed by the assignment'}); ` +
      `wall ${wall.toFixed(0)} ms (checksum ${sink.toFixed(1)})`,
  );
  const line = (name: string, ns: Float64Array) => {
    const sorted = Float64Array.from(ns).sort();
    const us = (p: number) => percentile(sorted, p) / 1e3;
    const mean = sorted.reduce((s, x) => s + x, 0) / sorted.length / 1e3;
    console.log(
      `${name.padEnd(22)} p50 ${us(50).toFixed(1).padStart(8)} µs   p99 ${us(99).toFixed(1).padStart(8)} µs   ` +
        `max ${us(100).toFixed(1).padStart(9)} µs   mean ${mean.toFixed(1).padStart(8)} µs`,
    );
    return us(99) / 1e3;
  };
  line('variant assignments', parts.variants);
  line('baseline: draw only', baseline);
  line('incentive choice', parts.incentive);
  const p99 = line('per recovery (both)', total);
  if (warmings.length > 0) line('snapshot warming (off path)', Float64Array.from(warmings));
  console.log(
    `p99 per recovery ${(p99 * 1000).toFixed(1)} µs — goal ≤ ${GOAL_MS} ms: ${p99 <= GOAL_MS ? 'met' : 'NOT met'}`,
  );
}

main();
