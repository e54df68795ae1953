/**
 * The policy backtest checked against the lab's truth (RFC 0019, issue 15's Done-when): per seed,
 * the learning policy runs and its log is exported to a throw-away PostgreSQL database
 * (./log-export.ts); `policy backtest` (the CLI command's code, unchanged) estimates the fixed
 * rules on it; the fixed rules run on the same shoppers and their log is read by the same code
 * (`readBacktestLog`): its mean net revenue per recovery is the truth the estimate is compared with.
 *
 * Two candidates are backtested:
 * - `fixed`: the fixed rules as they are — no model, so no routing by score. The learning policy
 *   routes deterministically by its score (nurture / short / personal bands get their own
 *   sequence), so where it routed, the fixed rules' sequence was never played: the backtest should
 *   refuse when that share exceeds `--max-unsupported` (5 %), and says how large it is.
 * - `fixed-routed`: the fixed rules' randomised decisions (holdout, send-time off, the discount
 *   ladder, no experiments) with routing as the learning policy routes. What a log cannot tell —
 *   decisions it does not randomise: channel choice, the engagement score (on in the learning
 *   policy, off in the fixed rules) — the backtest assumes behave as logged. So its exact target is
 *   the "hybrid" policy: the learning policy's settings with those randomised decisions of the fixed
 *   rules. The hybrid runs on the same shoppers; its truth and the fixed rules' are both printed.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { candidatePolicy, readBacktestLog, type BacktestLog } from '@reclaim/application';
import type { ShopRecoverySettings } from '@reclaim/application/recovery/settings/shop-settings';
import {
  candidateDistribution,
  loggedDistribution,
  unsupportedMass,
  type CandidatePolicy,
  type RecoveryConfig,
} from '@reclaim/domain';
import { PostgresEventStore } from '@reclaim/event-store';
import { policyBacktest, REFUSED_EXIT } from '../../apps/reclaim/src/cli/policy-backtest';
import type { LabPolicy } from './engine';
import {
  FIXED_POLICY,
  LEARNING_POLICY,
  noMessagesPolicy,
  policyOf,
  runPolicy,
  windowOf,
  type LabOptions,
  type PolicyFile,
} from './lab';
import { exportLabLogTo, LabLog, memoryLogReader } from './log-export';
import type { Population } from './population';
import { trueModel } from './shoppers';

export interface Interval {
  readonly value: number;
  readonly low: number;
  readonly high: number;
}

export interface CandidateEstimate {
  readonly status: 'estimated' | 'refused';
  readonly refusal?: string;
  readonly recoveries: number;
  readonly effectiveSampleSize?: number;
  readonly unsupportedShare: number;
  readonly dr?: Interval;
  readonly ips?: Interval;
  readonly snips?: Interval;
  /** The learning policy's own mean net revenue per recovery on its log (on-policy). */
  readonly onPolicy?: Interval;
  /**
   * The unsupported share by why (per recovery: the candidate's mass on actions the log could not
   * take there): `sequence` (another sequence: routing or the catalogue), `variants` (the steps as
   * run differ: a variant adopted or left alone), `incentive`, `send-time`.
   */
  readonly unsupportedBy?: Readonly<Record<string, number>>;
}

export interface BacktestCheckRow {
  readonly population: string;
  readonly seed: number;
  /** The fixed rules (routing off). */
  readonly fixed: CandidateEstimate;
  /** The fixed rules' randomised decisions with routing as logged (target: the hybrid). */
  readonly fixedRouted: CandidateEstimate;
  /** The fixed rules' mean net revenue per recovery in their own run (same shoppers, same reward). */
  readonly truthFixed: number;
  /** The hybrid's (learning settings with the fixed rules' randomised decisions), in its own run. */
  readonly truthHybrid: number;
  /** `fixed`'s DR interval covers the fixed rules' truth (undefined when refused). */
  readonly coveredFixed?: boolean;
  /** `fixed-routed`'s DR interval covers the hybrid's truth. */
  readonly coveredHybrid?: boolean;
  /** `fixed-routed`'s DR interval covers the fixed rules' truth (they differ by what the log cannot tell). */
  readonly routedCoversFixed?: boolean;
  readonly seconds: number;
}

type Settings = NonNullable<PolicyFile['settings']>;

/** The fixed rules' randomised decisions said explicitly (they apply on top of the learning shop's settings). */
function fixedSettings(routing: boolean): Settings {
  return {
    ...(FIXED_POLICY.settings ?? {}),
    // The fixed rules never have a model, so they never route; their discounts are the ladder;
    // they run no experiments.
    ...(routing ? {} : { routing: { enabled: false } }),
    incentives: { policy: 'fixed' },
    experiments: { enabled: false },
  } as Settings;
}

/** The policy files `policy backtest` gets. */
export function candidateFiles(fixed: LabPolicy) {
  return {
    fixed: { catalogue: fixed.catalogue, settings: fixedSettings(false) },
    fixedRouted: { catalogue: fixed.catalogue, settings: fixedSettings(true) },
  };
}

/** The hybrid: the learning policy with the fixed rules' randomised decisions (routing as the learning policy's). */
export function hybridPolicy(): LabPolicy {
  const s = LEARNING_POLICY.settings ?? {};
  return policyOf(
    'hybrid',
    'learning',
    {
      ...(LEARNING_POLICY.catalogue !== undefined ? { catalogue: LEARNING_POLICY.catalogue } : {}),
      settings: {
        ...s,
        sendTime: { ...(s.sendTime ?? {}), enabled: false },
        incentives: { ...(s.incentives ?? {}), policy: 'fixed' },
        experiments: { enabled: false },
      } as Settings,
    },
    'hybrid',
  );
}

type ActionSettingsOf = Pick<
  RecoveryConfig,
  'holdoutPercent' | 'rolloutPercent' | 'shadowMode' | 'sendTime' | 'incentives' | 'experiments' | 'routing'
>;

/** The randomised decisions' settings of a config, to check a candidate is what it claims. */
function actionSettings(c: ActionSettingsOf, routing: boolean) {
  return {
    holdoutPercent: c.holdoutPercent,
    rolloutPercent: c.rolloutPercent,
    shadowMode: c.shadowMode,
    sendTime: c.sendTime.enabled,
    incentives: c.incentives.policy,
    experiments: c.experiments?.enabled ?? false,
    routing,
  };
}

const FROM = '2000-01-01';
const TO = '2100-01-01';
const NOW = new Date('2100-01-01T00:00:00Z');

async function withDatabase<T>(serverUrl: string, f: (url: string) => Promise<T>): Promise<T> {
  const name = `reclaim_lab_log_${Date.now().toString(36)}_${randomUUID().slice(0, 8)}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await f(url.toString());
  } finally {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

/** Mean net revenue per settled recovery of a run's log, read by the backtest's own reader. */
export async function meanReward(log: LabLog, attributionWindowMs: number): Promise<number> {
  const read = await readBacktestLog(memoryLogReader(log), {
    shopId: log.shopId,
    from: new Date(FROM),
    to: new Date(TO),
    now: NOW,
    attributionWindowMs,
  });
  const rs = read.recoveries;
  return rs.reduce((s, r) => s + r.reward, 0) / Math.max(1, rs.length);
}

interface Report {
  result: {
    status: 'estimated' | 'refused';
    refusal?: { reason: string; message: string };
    recoveries: number;
    unsupportedShare: number;
    estimates?: { dr: Interval; ips: Interval; snips: Interval; onPolicy: Interval; effectiveSampleSize: number };
  };
}

/** `policy backtest` (the CLI command's code) on the exported log; its JSON report. */
async function backtest(
  url: string,
  shopId: string,
  shopConfig: RecoveryConfig,
  file: unknown,
  dir: string,
  name: string,
): Promise<CandidateEstimate> {
  const policyPath = join(dir, `${name}.json`);
  await writeFile(policyPath, JSON.stringify(file));
  const jsonPath = join(dir, `${name}-report.json`);
  const pool = new Pool({ connectionString: url, max: 2 });
  const store = new PostgresEventStore({ pool });
  const err: string[] = [];
  let code: number;
  try {
    code = await policyBacktest(
      [
        ...['--shop', shopId, '--from', FROM, '--to', TO, '--policy', policyPath],
        ...['--out-md', join(dir, `${name}-report.md`), '--out-json', jsonPath],
      ],
      { store, shopConfig: async () => shopConfig, now: NOW },
      { out: () => undefined, err: (l) => err.push(l) },
    );
  } finally {
    await store.close();
    await pool.end();
  }
  if (code !== 0 && code !== REFUSED_EXIT) throw new Error(`policy backtest failed (${code}): ${err.join('\n')}`);
  const r = (JSON.parse(await readFile(jsonPath, 'utf8')) as Report).result;
  const e = r.estimates;
  return {
    status: r.status,
    ...(r.refusal !== undefined ? { refusal: `${r.refusal.reason}: ${r.refusal.message}` } : {}),
    recoveries: r.recoveries,
    unsupportedShare: r.unsupportedShare,
    ...(e !== undefined
      ? { effectiveSampleSize: e.effectiveSampleSize, dr: e.dr, ips: e.ips, snips: e.snips, onPolicy: e.onPolicy }
      : {}),
  };
}

/** Why the candidate's actions are unsupported, as shares of the recoveries (see {@link CandidateEstimate}). */
export function unsupportedBreakdown(log: BacktestLog, policy: CandidatePolicy): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of log.recoveries) {
    const logged = loggedDistribution(r.start) ?? [];
    for (const a of candidateDistribution(policy, r.start)) {
      if (logged.some((l) => l.key === a.key && l.probability > 0)) continue;
      const c = a.action;
      const near = logged.find((l) => l.action.treatment === c.treatment && l.probability > 0)?.action;
      let why = 'other';
      if (c.treatment === 'live' && near?.treatment === 'live') {
        if (c.sequence.id !== near.sequence.id) why = 'sequence';
        else if (
          !logged.some((l) => l.action.treatment === 'live' && l.action.sequence.signature === c.sequence.signature)
        )
          why = 'variants';
        else if (!logged.some((l) => l.action.treatment === 'live' && l.action.sendTime === c.sendTime))
          why = 'send-time';
        else why = 'incentive';
      }
      out[why] = (out[why] ?? 0) + unsupportedMass(a, r.start) / log.recoveries.length;
    }
  }
  return out;
}

/** One seed: run, export, backtest, compare. `serverUrl`: a PostgreSQL server (a throw-away database is made on it). */
export async function backtestCheckSeed(
  population: Population,
  options: LabOptions,
  serverUrl: string,
): Promise<BacktestCheckRow> {
  const t0 = Date.now();
  const model = trueModel(population, windowOf(noMessagesPolicy().config));
  const zeros = new Float64Array(options.shoppers);
  const learning = policyOf('learning', 'learning', LEARNING_POLICY, 'learning');
  const fixed = policyOf('fixed', 'fixed', FIXED_POLICY, 'fixed');
  const hybrid = hybridPolicy();
  const files = candidateFiles(fixed);
  // The candidates are what they claim: the fixed rules' randomised decisions (and routing off / as the hybrid's).
  for (const [file, target, routing] of [
    [files.fixed, fixed.config, false],
    [files.fixedRouted, hybrid.config, true],
  ] as const) {
    const candidate = candidatePolicy(learning.config, {
      catalogue: file.catalogue,
      settings: file.settings as ShopRecoverySettings,
    });
    const want = JSON.stringify(
      actionSettings({ ...target, routing: { ...target.routing, enabled: routing } }, routing),
    );
    const got = JSON.stringify(actionSettings(candidate.config, candidate.config.routing.enabled));
    if (want !== got) throw new Error(`a backtest candidate is not what it claims: ${got} ≠ ${want}`);
  }

  const logs = {
    learning: new LabLog(randomUUID(), population.currency),
    fixed: new LabLog(randomUUID(), population.currency),
    hybrid: new LabLog(randomUUID(), population.currency),
  };
  runPolicy(model, learning, options, zeros, { shopId: logs.learning.shopId, log: logs.learning });
  runPolicy(model, fixed, options, zeros, { shopId: logs.fixed.shopId, log: logs.fixed });
  runPolicy(model, hybrid, options, zeros, { shopId: logs.hybrid.shopId, log: logs.hybrid });
  const truthFixed = await meanReward(logs.fixed, fixed.config.attributionWindowMs);
  const truthHybrid = await meanReward(logs.hybrid, hybrid.config.attributionWindowMs);

  return withDatabase(serverUrl, async (url) => {
    await exportLabLogTo(logs.learning, url);
    const dir = await mkdtemp(join(tmpdir(), 'reclaim-backtest-check-'));
    try {
      const shop = logs.learning.shopId;
      const read = await readBacktestLog(memoryLogReader(logs.learning), {
        shopId: shop,
        from: new Date(FROM),
        to: new Date(TO),
        now: NOW,
        attributionWindowMs: learning.config.attributionWindowMs,
      });
      const why = (file: { catalogue: LabPolicy['catalogue']; settings: Settings }) =>
        unsupportedBreakdown(
          read,
          candidatePolicy(learning.config, {
            catalogue: file.catalogue,
            settings: file.settings as ShopRecoverySettings,
          }),
        );
      const a = {
        ...(await backtest(url, shop, learning.config, files.fixed, dir, 'fixed')),
        unsupportedBy: why(files.fixed),
      };
      const b = {
        ...(await backtest(url, shop, learning.config, files.fixedRouted, dir, 'fixed-routed')),
        unsupportedBy: why(files.fixedRouted),
      };
      const covers = (c: CandidateEstimate, x: number) =>
        c.status === 'estimated' && c.dr !== undefined ? c.dr.low <= x && x <= c.dr.high : undefined;
      const coveredFixed = covers(a, truthFixed);
      const coveredHybrid = covers(b, truthHybrid);
      const routedCoversFixed = covers(b, truthFixed);
      return {
        population: population.name,
        seed: options.seed,
        fixed: a,
        fixedRouted: b,
        truthFixed,
        truthHybrid,
        ...(coveredFixed !== undefined ? { coveredFixed } : {}),
        ...(coveredHybrid !== undefined ? { coveredHybrid } : {}),
        ...(routedCoversFixed !== undefined ? { routedCoversFixed } : {}),
        seconds: (Date.now() - t0) / 1000,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
