/**
 * Policy backtest (docs/policy-backtest.md): what a candidate policy — a sequence catalogue and shop
 * settings — would have earned on the shop's logged recoveries, estimated from the randomisation the
 * log recorded (inverse propensity, self-normalised, doubly robust; 95 % intervals), against the
 * policy that ran. The candidate's probability of each logged action comes from the engine's own
 * decision code (`candidateDistribution`: the arm draw, the catalogue's first match, the variants,
 * the send-time draw, the incentive choice) run on what each recovery recorded (RFC 0019).
 */
import {
  actionLabel,
  candidateDistribution,
  loggedAction,
  actionKey,
  loggedDistribution,
  startKey,
  unsupportedMass,
  validateSequenceCatalogue,
  type CandidatePolicy,
  type RecoveryConfig,
  type SequenceCatalogue,
  type SequenceDefinition,
  type ValidationError,
} from '@reclaim/domain';
import {
  crossFitted,
  fitRatioRewardModel,
  offPolicyEstimates,
  type OffPolicyEstimates,
  type OffPolicySample,
  type RewardRow,
} from '@reclaim/learning';
import {
  shopRecoveryConfig,
  validateShopSettings,
  type ShopRecoverySettings,
} from '../recovery/settings/shop-settings';
import type { BacktestLog, BacktestRecovery } from './backtest-log';

/** A policy file: `{ "catalogue": { "sequences": [...] }, "settings": { ...shop settings } }`. */
export interface PolicyFile {
  readonly catalogue: SequenceCatalogue;
  readonly settings: ShopRecoverySettings;
}

export class InvalidPolicyFileError extends Error {
  constructor(readonly errors: readonly ValidationError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('\n'));
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses and validates a policy file with the same validators as `PUT /api/shops/:id/sequences`
 * and the shop settings API; every error names its field (`catalogue.sequences[0].steps[1].delayMs`).
 */
export function parsePolicyFile(text: string): PolicyFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidPolicyFileError([
      { field: '(file)', message: `is not JSON: ${err instanceof Error ? err.message : String(err)}` },
    ]);
  }
  if (!isObject(doc))
    throw new InvalidPolicyFileError([{ field: '(file)', message: 'must be a JSON object { catalogue, settings }' }]);
  const errors: ValidationError[] = [];
  for (const key of Object.keys(doc)) {
    if (key !== 'catalogue' && key !== 'settings')
      errors.push({ field: key, message: 'is not part of a policy (catalogue, settings)' });
  }
  const c = doc.catalogue;
  let catalogue: SequenceCatalogue | undefined;
  if (!isObject(c)) {
    errors.push({
      field: 'catalogue',
      message: 'must be { "sequences": [...] } as PUT /api/shops/:id/sequences takes it',
    });
  } else if (!Array.isArray(c.sequences) || c.sequences.length === 0) {
    errors.push({ field: 'catalogue.sequences', message: 'must be a non-empty list of sequence definitions' });
  } else {
    const bad = c.sequences.flatMap((s, i) =>
      isObject(s) ? [] : [{ field: `catalogue.sequences[${i}]`, message: 'must be an object' }],
    );
    if (bad.length > 0) errors.push(...bad);
    else {
      const version = c.version === undefined ? 1 : c.version;
      catalogue = { version: version as number, sequences: c.sequences as unknown as SequenceDefinition[] };
      let found: ValidationError[];
      try {
        found = validateSequenceCatalogue(catalogue);
      } catch {
        found = [{ field: 'sequences', message: 'malformed sequence definition' }];
      }
      errors.push(...found.map((e) => ({ field: `catalogue.${e.field}`, message: e.message })));
      for (const key of Object.keys(c)) {
        if (key !== 'sequences' && key !== 'version')
          errors.push({ field: `catalogue.${key}`, message: 'is not part of a catalogue' });
      }
    }
  }
  const settings = doc.settings ?? {};
  errors.push(
    ...validateShopSettings(settings).map((e) => ({
      field: e.field === '(body)' ? 'settings' : `settings.${e.field}`,
      message: e.message,
    })),
  );
  if (errors.length > 0 || catalogue === undefined) throw new InvalidPolicyFileError(errors);
  return { catalogue, settings: settings as ShopRecoverySettings };
}

/** The candidate: the shop's current engine settings with the file's settings applied on top, and its catalogue. */
export function candidatePolicy(shopConfig: RecoveryConfig, file: PolicyFile): CandidatePolicy {
  return { config: shopRecoveryConfig(shopConfig, file.settings), catalogue: file.catalogue };
}

export interface BacktestThresholds {
  /** Fewer settled recoveries with logged propensities than this: refuse (default 100). */
  readonly minRecoveries: number;
  /** Effective sample size (Σw)²/Σw² below this: refuse (default 30). */
  readonly minEffectiveSampleSize: number;
  /** Share of the candidate's decisions on actions the log never took where it could have (default 0.05). */
  readonly maxUnsupportedShare: number;
}

export const DEFAULT_BACKTEST_THRESHOLDS: BacktestThresholds = {
  minRecoveries: 100,
  minEffectiveSampleSize: 30,
  maxUnsupportedShare: 0.05,
};

export type RefusalReason =
  'too-few-recoveries' | 'mixed-currencies' | 'actions-never-logged' | 'too-little-randomisation';

export interface ActionRow {
  readonly action: string;
  /** Recoveries that took it. */
  readonly logged: number;
  readonly meanReward: number;
  /** Mean probability the logging policy gave it, and the candidate. */
  readonly loggingShare: number;
  readonly candidateShare: number;
}

export interface BacktestResult {
  readonly status: 'estimated' | 'refused';
  readonly refusal?: { readonly reason: RefusalReason; readonly message: string };
  readonly recoveries: number;
  readonly recovered: number;
  readonly currency: string | null;
  readonly excluded: BacktestLog['excluded'];
  /** Mean candidate probability on actions the logging policy gave probability 0 at that recovery. */
  readonly unsupportedShare: number;
  readonly estimates?: OffPolicyEstimates;
  readonly actions: readonly ActionRow[];
  readonly rewardModel: string;
}

const REWARD_MODEL =
  'per start action (arm × sequence behaviour with its variants × send-time arm; not the incentive, which the importance weights carry): net revenue per unit of cart value, shrunk towards the pooled ratio with 10 pseudo-recoveries, cross-fitted over 2 folds (each recovery predicted by the model fitted on the other fold)';

/** Runs the estimate, or says why the log cannot tell. Pure: the log is read beforehand. */
export function backtestPolicy(
  log: BacktestLog,
  policy: CandidatePolicy,
  thresholds: BacktestThresholds = DEFAULT_BACKTEST_THRESHOLDS,
  onRecovery?: (done: number, total: number) => void,
): BacktestResult {
  const recs = log.recoveries;
  const currencies = [...new Set(recs.map((r) => r.currency))];
  const base = {
    recoveries: recs.length,
    recovered: recs.filter((r) => r.recovered).length,
    currency: currencies.length === 1 ? currencies[0] : null,
    excluded: log.excluded,
    rewardModel: REWARD_MODEL,
  };
  const refuse = (reason: RefusalReason, message: string, extra: Partial<BacktestResult> = {}): BacktestResult => ({
    ...base,
    status: 'refused',
    refusal: { reason, message },
    unsupportedShare: 0,
    actions: [],
    ...extra,
  });
  if (recs.length < thresholds.minRecoveries) {
    const notLogged = log.excluded.propensityNotLogged;
    return refuse(
      'too-few-recoveries',
      `${recs.length} settled recoveries with logged propensities in the window; at least ${thresholds.minRecoveries} are needed` +
        (log.excluded.unsettled > 0 ? ` (${log.excluded.unsettled} more still unsettled)` : '') +
        (notLogged > 0 ? ` (${notLogged} started before propensities were logged)` : ''),
    );
  }
  if (currencies.length > 1) {
    return refuse(
      'mixed-currencies',
      `the recoveries are in several currencies (${currencies.join(', ')}): rewards cannot be added up`,
    );
  }
  const rows: RewardRow[] = [];
  const prepared = recs.map((r) => {
    const logged = loggedAction(r.start);
    const key = actionKey(logged);
    const loggingDist = loggedDistribution(r.start) ?? [];
    const candidate = candidateDistribution(policy, r.start);
    rows.push({ action: startKey(logged), scale: r.cartValue, reward: r.reward });
    return { r, logged, key, loggingDist, candidate };
  });
  const models = crossFitted(rows, (rs) => fitRatioRewardModel(rs));
  const samples: OffPolicySample[] = [];
  let unsupported = 0;
  const actions = new Map<
    string,
    { label: string; logged: number; reward: number; logging: number; candidate: number }
  >();
  const row = (key: string, label: string) => {
    let a = actions.get(key);
    if (a === undefined) {
      a = { label, logged: 0, reward: 0, logging: 0, candidate: 0 };
      actions.set(key, a);
    }
    return a;
  };
  prepared.forEach((p, i) => {
    const model = models.modelFor(i);
    const loggedP = p.loggingDist.find((a) => a.key === p.key)?.probability ?? 0;
    const targetP = p.candidate.find((a) => a.key === p.key)?.probability ?? 0;
    for (const a of p.candidate) {
      if (!((p.loggingDist.find((l) => l.key === a.key)?.probability ?? 0) > 0)) unsupported += unsupportedMass(a, p.r.start);
      row(a.key, actionLabel(a.action)).candidate += a.probability;
    }
    for (const a of p.loggingDist) row(a.key, actionLabel(a.action)).logging += a.probability;
    const taken = row(p.key, actionLabel(p.logged));
    taken.logged += 1;
    taken.reward += p.r.reward;
    samples.push({
      reward: p.r.reward,
      // A logged action always had a positive probability; a zero here means the recorded shares
      // contradict the arm drawn (edited settings mid-draw): count it as certain rather than divide by 0.
      loggedPropensity: loggedP > 0 ? loggedP : 1,
      targetProbability: targetP,
      predictedLogged: model.predict(startKey(p.logged), p.r.cartValue),
      predictedTarget: p.candidate.reduce(
        (s, a) => s + a.probability * model.predict(startKey(a.action), p.r.cartValue),
        0,
      ),
    });
    onRecovery?.(i + 1, prepared.length);
  });
  const unsupportedShare = unsupported / recs.length;
  const actionRows: ActionRow[] = [...actions.values()]
    .map((a) => ({
      action: a.label,
      logged: a.logged,
      meanReward: a.logged > 0 ? a.reward / a.logged : 0,
      loggingShare: a.logging / recs.length,
      candidateShare: a.candidate / recs.length,
    }))
    .sort((a, b) => b.candidateShare + b.loggingShare - (a.candidateShare + a.loggingShare));
  const estimates = offPolicyEstimates(samples);
  if (estimates.matched === 0) {
    return refuse(
      'actions-never-logged',
      `the candidate's actions were never logged: none of the ${recs.length} recoveries took an action the candidate would take`,
      { unsupportedShare, actions: actionRows },
    );
  }
  if (unsupportedShare > thresholds.maxUnsupportedShare) {
    return refuse(
      'actions-never-logged',
      `${pct(unsupportedShare)} of the candidate's decisions are actions the log never took where the candidate would ` +
        `(more than ${pct(thresholds.maxUnsupportedShare)}): e.g. a sequence that behaves differently from the one that ran, ` +
        `or an arm the logging policy never drew. Nothing in the log says what they would have earned`,
      { unsupportedShare, actions: actionRows },
    );
  }
  if (estimates.effectiveSampleSize < thresholds.minEffectiveSampleSize) {
    return refuse(
      'too-little-randomisation',
      `too little randomisation: the effective sample size is ${estimates.effectiveSampleSize.toFixed(1)} ` +
        `(below ${thresholds.minEffectiveSampleSize}) for ${recs.length} recoveries; the weighted estimate would rest on a handful of them`,
      { unsupportedShare, actions: actionRows, estimates },
    );
  }
  return { ...base, status: 'estimated', unsupportedShare, estimates, actions: actionRows };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export type { BacktestRecovery };
