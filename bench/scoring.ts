/**
 * Scoring at abandonment, per cart: exactly what the start of a recovery does once the feature
 * vector is recorded — the shop's live model from the `LiveModels` cache (`forShop`, awaited as
 * the start context does) and `scoreFeatures` (the domain's `scoreRow`: recorded vector → model
 * row, then the model's encoder, weights and Platt calibration, rounded as the log keeps it).
 *
 *   npm run bench:scoring
 *   BENCH_CARTS=100000 BENCH_SHOPS=10 npm run bench:scoring
 *
 * BENCH_SHOPS shops, each with a model trained by the engine's trainer (`trainChallenger`) on
 * 20,000 recoveries of the shopper simulator's population, loaded from its model stream
 * (`model.trained` + `model.promoted`, in memory) by the real `LiveModels`. BENCH_CARTS carts of the
 * same population (other seeds), spread over the shops, each timed alone with
 * `process.hrtime.bigint()` after BENCH_WARMUP carts of warm-up.
 *
 * Baseline, in the same run and interleaved in blocks of 1,000 carts: the bare arithmetic of a
 * score on the same carts — a dot product of the model's weights with the cart's already encoded
 * vector (`Float64Array`), the sigmoid and the Platt mapping — with the same timer. The ratio says
 * what the engine's path costs on top of the arithmetic (cache look-up, the await, the row
 * mapping, the encoding). Goal (issue 14): p99 ≤ 1 ms per cart.
 */
import { randomUUID } from 'node:crypto';
import { CURRENT_SCHEMA_VERSIONS, modelStream, scoreFeatures, scoreRow, type RecoveryFeatures } from '@reclaim/domain';
import { encode, sigmoid, type LogisticModel } from '@reclaim/learning';
import { LiveModels, trainChallenger, type TrainingRow } from '@reclaim/application';
import { shopperPopulation } from '@reclaim/application/learning/testing/shopper-population';
import { InMemoryEventStore } from '@reclaim/kafka/testing/in-memory-event-store';

const CARTS = Number(process.env.BENCH_CARTS ?? 100_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10_000);
const SHOPS = Number(process.env.BENCH_SHOPS ?? 10);
const BLOCK = 1_000;
const GOAL_MS = 1;

function rowsOf(size: number, seed: number): TrainingRow[] {
  return [...shopperPopulation(size, seed)].map((r) => ({
    recoveryId: r.recoveryId,
    shopId: 'bench',
    abandonedAt: r.abandonedAt,
    holdout: false,
    featureSchema: r.featureSchema,
    features: scoreRow(r.features),
    label: r.purchased,
  }));
}

/** A shop's model stream as the trainer writes it: trained, then promoted. */
async function publish(store: InMemoryEventStore, shopId: string, seed: number): Promise<void> {
  const { model, fit, validation } = trainChallenger(rowsOf(20_000, seed));
  const at = new Date().toISOString();
  await store.append(
    modelStream(shopId),
    [
      {
        id: randomUUID(),
        type: 'model.trained',
        schemaVersion: CURRENT_SCHEMA_VERSIONS['model.trained'],
        data: {
          shopId,
          version: 1,
          scope: 'shop',
          trainedAt: at,
          trigger: 'on-demand',
          labelWindowMs: 7 * 86_400_000,
          trainingWindow: { from: fit[0].abandonedAt, to: fit[fit.length - 1].abandonedAt },
          rows: fit.length,
          positives: fit.reduce((s, r) => s + r.label, 0),
          validation,
          importances: [],
          contentHash: model.contentHash,
          model,
        },
        metadata: { shopId },
      },
      {
        id: randomUUID(),
        type: 'model.promoted',
        schemaVersion: CURRENT_SCHEMA_VERSIONS['model.promoted'],
        data: { shopId, version: 1, at, reason: 'no-champion', challenger: validation },
        metadata: { shopId },
      },
    ],
    'no_stream',
  );
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(name: string, ns: Float64Array): { p50: number; p99: number; max: number; mean: number } {
  const sorted = Float64Array.from(ns).sort();
  const out = {
    p50: percentile(sorted, 50) / 1e6,
    p99: percentile(sorted, 99) / 1e6,
    max: sorted[sorted.length - 1] / 1e6,
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length / 1e6,
  };
  console.log(
    `${name.padEnd(34)} p50 ${(out.p50 * 1000).toFixed(2).padStart(7)} µs   p99 ${(out.p99 * 1000).toFixed(2).padStart(7)} µs   ` +
      `max ${(out.max * 1000).toFixed(1).padStart(8)} µs   mean ${(out.mean * 1000).toFixed(2).padStart(7)} µs`,
  );
  return out;
}

async function main(): Promise<void> {
  const store = new InMemoryEventStore();
  const shops = Array.from({ length: SHOPS }, () => randomUUID());
  const t0 = Date.now();
  for (let i = 0; i < SHOPS; i++) await publish(store, shops[i], 100 + i);
  const live = new LiveModels({ store, minOutcomes: 200, cacheMs: 60 * 60_000 });
  const models = new Map<string, LogisticModel>();
  for (const shopId of shops) {
    const ctx = await live.forShop(shopId);
    if (ctx.kind !== 'model') throw new Error(`${shopId}: no live model`);
    models.set(shopId, ctx.model);
  }
  console.log(
    `${SHOPS} shops, each with a model of ${models.get(shops[0])!.features.length} encoded features (${((Date.now() - t0) / 1000).toFixed(1)} s to train)`,
  );

  // The carts: recorded vectors (as `recovery.features-recorded` holds them), and for the baseline
  // the same carts already encoded with their shop's model.
  const total = WARMUP + CARTS;
  const carts: { shopId: string; features: RecoveryFeatures; encoded: Float64Array }[] = [];
  let n = 0;
  for (const r of shopperPopulation(total, 9_001)) {
    const shopId = shops[n++ % SHOPS];
    carts.push({ shopId, features: r.features, encoded: encode(models.get(shopId)!.encoder, scoreRow(r.features)) });
  }

  const engine = new Float64Array(CARTS);
  const bare = new Float64Array(CARTS);
  let sink = 0;
  const scoreEngine = async (i: number): Promise<number> => {
    const c = carts[i];
    const start = process.hrtime.bigint();
    const ctx = await live.forShop(c.shopId);
    const result = scoreFeatures(ctx, c.features);
    const ns = Number(process.hrtime.bigint() - start);
    if (result.kind === 'scored') sink += result.score;
    return ns;
  };
  const scoreBare = (i: number): number => {
    const c = carts[i];
    const m = models.get(c.shopId)!;
    const start = process.hrtime.bigint();
    let z = m.intercept;
    const w = m.weights;
    const x = c.encoded;
    for (let j = 0; j < w.length; j++) z += w[j] * x[j];
    const p = m.calibration.method === 'platt' ? sigmoid(m.calibration.a * z + m.calibration.b) : sigmoid(z);
    const score = Math.round(p * 1e6) / 1e6;
    const ns = Number(process.hrtime.bigint() - start);
    sink += score;
    return ns;
  };

  for (let i = 0; i < WARMUP; i++) {
    await scoreEngine(i);
    scoreBare(i);
  }
  for (let from = 0; from < CARTS; from += BLOCK) {
    const to = Math.min(CARTS, from + BLOCK);
    const engineFirst = (from / BLOCK) % 2 === 0;
    if (!engineFirst) for (let i = from; i < to; i++) bare[i] = scoreBare(WARMUP + i);
    for (let i = from; i < to; i++) engine[i] = await scoreEngine(WARMUP + i);
    if (engineFirst) for (let i = from; i < to; i++) bare[i] = scoreBare(WARMUP + i);
  }

  console.log(
    `${CARTS} carts after ${WARMUP} of warm-up, blocks of ${BLOCK} alternating; live-model cache: ${live.stats.hits} hits, ${live.stats.loads} loads`,
  );
  const e = summary('engine (forShop + scoreFeatures)', engine);
  const b = summary('baseline (dot product + sigmoid)', bare);
  console.log('');
  console.log(
    `ratio engine / baseline: p50 ${(e.p50 / b.p50).toFixed(1)}×, p99 ${(e.p99 / b.p99).toFixed(1)}×, mean ${(e.mean / b.mean).toFixed(1)}×`,
  );
  console.log(
    `p99 per cart ${(e.p99 * 1000).toFixed(1)} µs — goal ≤ ${GOAL_MS} ms: ${e.p99 <= GOAL_MS ? 'met' : 'NOT met'}`,
  );
  if (!Number.isFinite(sink)) console.log(sink);
}

void main();
