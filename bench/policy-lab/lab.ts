/**
 * The policy lab: one population, one seed, the same shoppers under every policy and under no
 * messages (common random numbers), and per policy what it earned, what it cost and what the
 * appliance's own holdout measurement says next to the truth.
 */
import { readFileSync } from 'node:fs';
import {
  defaultRecoveryConfig,
  defaultSequences,
  validateSequenceCatalogue,
  type RecoveryConfig,
  type SequenceCatalogue,
} from '@reclaim/domain';
import {
  shopRecoveryConfig,
  validateShopSettings,
  type ShopRecoverySettings,
} from '@reclaim/application/recovery/settings/shop-settings';
import { lift, type ArmSums, type LiftResult } from '@reclaim/read-models/lift/lift';
import fixedFile from '../policies/fixed.json';
import learningFile from '../policies/learning.json';
import {
  LabEngine,
  type EngineOptions,
  type EngineRun,
  type ExperimentResult,
  type LabPolicy,
  type PolicyKind,
} from './engine';
import type { Population } from './population';
import { trueModel, type Shopper, type TrueModel } from './shoppers';

export interface PolicyFile {
  readonly catalogue?: SequenceCatalogue;
  readonly settings?: ShopRecoverySettings;
}

/** A policy from a policy file (`{ catalogue?, settings? }`, the shop APIs' schemas), checked field by field. */
export function policyFromFile(
  name: string,
  kind: PolicyKind,
  path: string,
  base: RecoveryConfig = defaultRecoveryConfig,
): LabPolicy {
  const file = JSON.parse(readFileSync(path, 'utf8')) as PolicyFile;
  return policyOf(name, kind, file, path, base);
}

/** SCORE_LABEL_WINDOW, SCORE_MIN_OUTCOMES and SCORE_RETRAIN_INTERVAL at their defaults. */
export const SCORE_TRAINING = { labelWindowMs: 7 * 86_400_000, minOutcomes: 200, intervalMs: 86_400_000 };

export function policyOf(
  name: string,
  kind: PolicyKind,
  file: PolicyFile,
  source: string,
  base: RecoveryConfig = defaultRecoveryConfig,
): LabPolicy {
  const errors = [
    ...validateShopSettings(file.settings ?? {}).map((e) => ({ field: `settings.${e.field}`, message: e.message })),
    ...(file.catalogue !== undefined
      ? validateSequenceCatalogue(file.catalogue).map((e) => ({ field: `catalogue.${e.field}`, message: e.message }))
      : []),
  ];
  if (errors.length > 0) {
    throw new Error(`${source}: invalid policy\n${errors.map((e) => `  ${e.field}: ${e.message}`).join('\n')}`);
  }
  const config = shopRecoveryConfig(base, file.settings ?? {});
  return {
    name,
    kind,
    config,
    catalogue: file.catalogue ?? defaultSequences(config),
    // The learning policy runs the recovery score's life cycle; routing by score acts once a model is live.
    ...(kind === 'learning' ? { score: SCORE_TRAINING } : {}),
  };
}

/** Today's fixed rules: every learning switch off (bench/policies/fixed.json). */
export const FIXED_POLICY: PolicyFile = fixedFile as PolicyFile;
/** The learning policy as it exists on main: send-time optimisation, channel choice and the engagement score on (bench/policies/learning.json). */
export const LEARNING_POLICY: PolicyFile = learningFile as PolicyFile;

/**
 * The oracle: the fixed rules' catalogue and checks, but every channel / discount / send-time /
 * skip decision taken from the true parameters (engine.ts `oraclePlan`). Its send time goes
 * through `recovery.send-time-chosen` (every recovery on the `on` arm).
 */
export function oraclePolicy(base: RecoveryConfig = defaultRecoveryConfig): LabPolicy {
  const p = policyOf(
    'oracle',
    'oracle',
    {
      settings: {
        sendTime: { enabled: true, armPercent: 100 },
        channelChoice: { enabled: false },
        engagementScore: { enabled: false },
        fatigue: { enabled: false },
      },
    },
    'oracle',
    base,
  );
  return { ...p, discountLevels: [0, 5, 10, 15, 20, 25] };
}

export function noMessagesPolicy(base: RecoveryConfig = defaultRecoveryConfig): LabPolicy {
  return { ...policyOf('no messages', 'none', {}, 'none', base) };
}

export interface PolicyResult {
  readonly policy: string;
  readonly shoppers: number;
  /** Recoveries started (a reachable cart abandoned). */
  readonly recoveries: number;
  readonly treated: number;
  readonly holdout: number;
  readonly purchases: number;
  /** Σ order totals (what shoppers paid) of every cart bought within its recovery window. */
  readonly revenue: number;
  /** Σ discounts of those orders (every used code, attributed or not). */
  readonly discountCost: number;
  /** revenue − discount cost (the project's net revenue: order value − discount cost). */
  readonly netRevenue: number;
  /** netRevenue − the no-message run's netRevenue (same shoppers, same draws). */
  readonly incrementalNet: number;
  readonly messages: { readonly email: number; readonly sms: number };
  /** Σ messages × the channel costs of the policy's settings. */
  readonly messageCost: number;
  readonly unsubscribes: number;
  /** The dashboard's lift (live-treated vs holdout) from the lab's log, same `lift()` function. */
  readonly measured: LiftResult;
  /** Mean over live-treated carts of (net under the policy − net without messages): what `measured.netRevenuePerCartLift` estimates. */
  readonly trueLiftPerCart: number;
  /** Whether the measured 95 % interval covers the true lift (undefined: not enough data). */
  readonly covered?: boolean;
  /** Recoveries per routing band (`recovery.routed`); empty without a score. */
  readonly bands: Record<string, number>;
  /** Recovery-score models trained and put live during the run. */
  readonly models: number;
  /** The step variants' experiments at the end of the run (empty when the policy runs none). */
  readonly experiments: readonly ExperimentResult[];
  readonly decisions: number;
  readonly refused: number;
  /** Wall-clock and CPU time of the policy's run (the machine may be shared: CPU time is the steadier figure). */
  readonly runMs: number;
  readonly cpuMs: number;
}

export interface LabOptions {
  readonly shoppers: number;
  readonly days: number;
  readonly seed: number;
}

/** Net revenue of each shopper's cart within the recovery window (0 when not bought). */
function netOf(run: EngineRun, model: TrueModel, abandonAfterMs: number): Float64Array {
  const out = new Float64Array(run.shoppers.length);
  run.shoppers.forEach((sh: Shopper, i) => {
    const b = run.truth[i].bought;
    if (b === undefined) return;
    if (b.at >= sh.lastActivityAt + abandonAfterMs + model.windowMs) return;
    out[i] = b.orderTotal - b.discount;
  });
  return out;
}

function sums(values: { recovered: boolean; revenue: number; discount: number }[]): ArmSums {
  let revenue = 0;
  let revenueSq = 0;
  let discountCost = 0;
  let net = 0;
  let netSq = 0;
  let recovered = 0;
  for (const v of values) {
    const r = v.recovered ? v.revenue : 0;
    if (v.recovered) recovered++;
    revenue += r;
    revenueSq += r * r;
    discountCost += v.discount;
    net += r - v.discount;
    netSq += (r - v.discount) ** 2;
  }
  return {
    carts: values.length,
    recovered,
    revenue: String(revenue),
    revenueSq: String(revenueSq),
    discountCost: String(discountCost),
    net: String(net),
    netSq: String(netSq),
  };
}

export function windowOf(config: RecoveryConfig): number {
  const last = config.followUpDelaysMs[config.followUpDelaysMs.length - 1] ?? 0;
  return last + config.completeAfterLastStepMs;
}

export interface LabRun {
  readonly population: string;
  readonly options: LabOptions;
  readonly results: readonly PolicyResult[];
  /** The no-message run's own time (shoppers and clock alone): the baseline of the run-time figures. */
  readonly baseline: { readonly runMs: number; readonly cpuMs: number };
}

/** Runs the no-message counterfactual and every policy on the same shoppers. */
export function runLab(
  population: Population,
  options: LabOptions,
  policies: readonly LabPolicy[],
  /** Per policy: its shop id and log sink (./log-export.ts), when its log is exported. */
  engine: (policy: LabPolicy) => Pick<EngineOptions, 'shopId' | 'log'> = () => ({}),
): LabRun {
  const none = noMessagesPolicy();
  const model = trueModel(population, windowOf(none.config));
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const baseline = new LabEngine(model, none, options).run();
  const runMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  const baseNet = netOf(baseline, model, none.config.abandonAfterMs);
  const results: PolicyResult[] = [];
  for (const policy of policies) results.push(runPolicy(model, policy, options, baseNet, engine(policy)));
  return {
    population: population.name,
    options,
    results,
    baseline: { runMs, cpuMs: (used.user + used.system) / 1000 },
  };
}

export function runPolicy(
  model: TrueModel,
  policy: LabPolicy,
  options: LabOptions,
  baseNet: Float64Array,
  /** The shop id of the run and a sink for its log (./log-export.ts), when exported. */
  engine: Pick<EngineOptions, 'shopId' | 'log'> = {},
): PolicyResult {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const run = new LabEngine(model, policy, { ...options, ...engine }).run();
  const runMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const net = netOf(run, model, policy.config.abandonAfterMs);
  let revenue = 0;
  let discountCost = 0;
  let purchases = 0;
  let unsubscribes = 0;
  let incremental = 0;
  run.truth.forEach((t, i) => {
    if (net[i] !== 0 || t.bought !== undefined) {
      if (
        t.bought !== undefined &&
        t.bought.at < run.shoppers[i].lastActivityAt + policy.config.abandonAfterMs + model.windowMs
      ) {
        purchases++;
        revenue += t.bought.orderTotal;
        discountCost += t.bought.discount;
      }
    }
    unsubscribes += t.unsubscribed.size;
    incremental += net[i] - baseNet[i];
  });
  const treated: { recovered: boolean; revenue: number; discount: number }[] = [];
  const holdout: typeof treated = [];
  let trueLift = 0;
  let recoveries = 0;
  let refused = 0;
  const bands: Record<string, number> = {};
  run.recoveries.forEach((rec, i) => {
    if (rec === undefined) return;
    refused += rec.refused.length;
    if (rec.band !== undefined) bands[rec.band] = (bands[rec.band] ?? 0) + 1;
    if (rec.arm === undefined) return;
    recoveries++;
    const recovered = rec.state.status === 'ended' && rec.state.endReason === 'purchased';
    const row = { recovered, revenue: rec.orderTotal ?? 0, discount: rec.attributedDiscountCost };
    if (rec.arm === 'live-treated') {
      treated.push(row);
      trueLift += net[i] - baseNet[i];
    } else if (rec.arm === 'holdout') holdout.push(row);
  });
  const measured = lift(sums(treated), sums(holdout));
  const trueLiftPerCart = treated.length > 0 ? trueLift / treated.length : 0;
  const costs = policy.config.channelChoice.costs;
  return {
    policy: policy.name,
    shoppers: run.shoppers.length,
    recoveries,
    treated: treated.length,
    holdout: holdout.length,
    purchases,
    revenue,
    discountCost,
    netRevenue: revenue - discountCost,
    incrementalNet: incremental,
    messages: { ...run.messagesByChannel },
    messageCost: run.messagesByChannel.email * costs.email + run.messagesByChannel.sms * costs.sms,
    unsubscribes,
    measured,
    trueLiftPerCart,
    ...(measured.status === 'ok'
      ? {
          covered:
            measured.netRevenuePerCartLift.low <= trueLiftPerCart &&
            trueLiftPerCart <= measured.netRevenuePerCartLift.high,
        }
      : {}),
    bands,
    models: run.trainings.filter((t) => t.version !== undefined).length,
    experiments: run.experiments,
    decisions: run.decisions,
    refused,
    runMs,
    cpuMs,
  };
}
