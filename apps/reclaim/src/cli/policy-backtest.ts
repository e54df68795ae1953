/**
 * `npm run cli -- policy backtest --shop <id> --from <date> --to <date> --policy <file>
 *  [--out-md <file>] [--out-json <file>] [--min-recoveries 100] [--min-ess 30] [--max-unsupported 0.05]`:
 * replays the shop's logged recoveries through a candidate policy and estimates what it would have
 * earned (docs/policy-backtest.md). Writes a Markdown and a JSON report; exits 3 with the reason when
 * the log cannot say anything (too few recoveries, actions never logged, too little randomisation).
 */
import { Presets, SingleBar } from 'cli-progress';
import { readFile, writeFile } from 'node:fs/promises';
import {
  backtestPolicy,
  candidatePolicy,
  DEFAULT_BACKTEST_THRESHOLDS,
  InvalidPolicyFileError,
  parsePolicyFile,
  readBacktestLog,
  type BacktestResult,
  type BacktestThresholds,
  type PolicyFile,
} from '@reclaim/application';
import type { RecoveryConfig } from '@reclaim/domain';
import type { EventStore } from '@reclaim/event-store';
import type { Estimate } from '@reclaim/learning';

export const POLICY_BACKTEST_USAGE =
  'usage: npm run cli -- policy backtest --shop <shopId> --from <date> --to <date> --policy <file> ' +
  '[--out-md <file>] [--out-json <file>] [--min-recoveries 100] [--min-ess 30] [--max-unsupported 0.05]';

export interface PolicyBacktestDeps {
  readonly store: EventStore;
  /** The shop's current engine settings (the candidate's settings apply on top), or undefined: no such shop. */
  readonly shopConfig: (shopId: string) => Promise<RecoveryConfig | undefined>;
  readonly now: Date;
}

export interface PolicyBacktestIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** A progress bar on stderr (off in tests). */
  readonly progress?: boolean;
}

/** Exit code when the log cannot answer (distinct from usage errors, 2, and failures, 1). */
export const REFUSED_EXIT = 3;

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `2026-05-01` (midnight UTC) or a full ISO timestamp. */
function parseDate(value: string | undefined, name: string): Date | string {
  if (value === undefined) return `${name} is required (a date such as 2026-05-01 or an ISO timestamp)`;
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(d.getTime())
    ? `${name} must be a date such as 2026-05-01 or an ISO timestamp, not "${value}"`
    : d;
}

function numberOption(
  args: readonly string[],
  name: string,
  fallback: number,
  min: number,
  max: number,
): number | string {
  const v = option(args, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  return Number.isFinite(n) && n >= min && n <= max ? n : `${name} must be a number from ${min} to ${max}`;
}

export async function policyBacktest(
  args: readonly string[],
  deps: PolicyBacktestDeps,
  io: PolicyBacktestIo,
): Promise<number> {
  const shopId = option(args, '--shop');
  const policyPath = option(args, '--policy');
  if (!shopId || !policyPath) {
    io.err(POLICY_BACKTEST_USAGE);
    return 2;
  }
  const from = parseDate(option(args, '--from'), '--from');
  const to = parseDate(option(args, '--to'), '--to');
  const minRecoveries = numberOption(args, '--min-recoveries', DEFAULT_BACKTEST_THRESHOLDS.minRecoveries, 2, 1e9);
  const minEss = numberOption(args, '--min-ess', DEFAULT_BACKTEST_THRESHOLDS.minEffectiveSampleSize, 1, 1e9);
  const maxUnsupported = numberOption(args, '--max-unsupported', DEFAULT_BACKTEST_THRESHOLDS.maxUnsupportedShare, 0, 1);
  for (const v of [from, to, minRecoveries, minEss, maxUnsupported]) {
    if (typeof v === 'string') {
      io.err(v);
      return 2;
    }
  }
  if ((to as Date) <= (from as Date)) {
    io.err('--to must be after --from');
    return 2;
  }
  const thresholds: BacktestThresholds = {
    minRecoveries: minRecoveries as number,
    minEffectiveSampleSize: minEss as number,
    maxUnsupportedShare: maxUnsupported as number,
  };
  const mdPath = option(args, '--out-md') ?? 'policy-backtest.md';
  const jsonPath = option(args, '--out-json') ?? 'policy-backtest.json';

  let file: PolicyFile;
  try {
    file = parsePolicyFile(await readFile(policyPath, 'utf8'));
  } catch (err) {
    if (err instanceof InvalidPolicyFileError) {
      io.err(`${policyPath} is not a valid policy:`);
      for (const e of err.errors) io.err(`  ${e.field}: ${e.message}`);
      return 2;
    }
    io.err(`cannot read ${policyPath}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  const shopConfig = await deps.shopConfig(shopId);
  if (shopConfig === undefined) {
    io.err(`no shop ${shopId}`);
    return 1;
  }
  const policy = candidatePolicy(shopConfig, file);

  const bar = io.progress
    ? new SingleBar({ format: '{stage} [{bar}] {value}/{total} | ETA {eta_formatted}' }, Presets.shades_classic)
    : undefined;
  const head = deps.store.headPosition ? Number((await deps.store.headPosition()).commit) : 0;
  bar?.start(Math.max(1, head), 0, { stage: 'reading the log ' });
  const log = await readBacktestLog(deps.store, {
    shopId,
    from: from as Date,
    to: to as Date,
    now: deps.now,
    attributionWindowMs: shopConfig.attributionWindowMs,
    onProgress: ({ position }) => bar?.update(Math.min(Math.max(1, head), Math.max(0, Number(position.commit)))),
  });
  bar?.update(Math.max(1, head));
  bar?.setTotal(Math.max(1, log.recoveries.length));
  bar?.update(0, { stage: 'replaying        ' });
  const result = backtestPolicy(log, policy, thresholds, (done) => bar?.update(done));
  bar?.stop();

  const meta = {
    shopId,
    from: (from as Date).toISOString(),
    to: (to as Date).toISOString(),
    generatedAt: deps.now.toISOString(),
    policyFile: policyPath,
    thresholds,
    eventsRead: log.events,
  };
  const markdown = backtestMarkdown(meta, file, result);
  const json = JSON.stringify({ ...meta, policy: file, result }, null, 2);
  try {
    await writeFile(mdPath, markdown);
    await writeFile(jsonPath, json + '\n');
  } catch (err) {
    io.err(`cannot write the report: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  for (const line of summary(result)) io.out(line);
  io.out(`report: ${mdPath}, ${jsonPath}`);
  if (result.status === 'refused') {
    io.err(`refused (${result.refusal?.reason}): ${result.refusal?.message}`);
    return REFUSED_EXIT;
  }
  return 0;
}

const money = (x: number) => x.toFixed(2);
const interval = (e: Estimate) => `${money(e.value)} [${money(e.low)}, ${money(e.high)}]`;

function summary(r: BacktestResult): string[] {
  const lines = [
    `${r.recoveries} settled recoveries (${r.recovered} recovered); excluded: ${r.excluded.unsettled} unsettled, ` +
      `${r.excluded.propensityNotLogged} without logged propensities`,
  ];
  const e = r.estimates;
  if (r.status === 'estimated' && e) {
    const c = r.currency ?? '';
    lines.push(
      `net revenue per recovery (${c}, 95 % interval):`,
      `  policy that ran (on-policy)  ${interval(e.onPolicy)}`,
      `  candidate, IPS               ${interval(e.ips)}`,
      `  candidate, self-normalised   ${interval(e.snips)}`,
      `  candidate, doubly robust     ${interval(e.dr)}`,
      `  gain (DR − ran)              ${interval(e.gain.dr)}`,
      `effective sample size ${e.effectiveSampleSize.toFixed(1)} of ${e.n}; candidate decisions on unlogged actions ${(100 * r.unsupportedShare).toFixed(1)} %`,
    );
  }
  return lines;
}

interface ReportMeta {
  readonly shopId: string;
  readonly from: string;
  readonly to: string;
  readonly generatedAt: string;
  readonly policyFile: string;
  readonly thresholds: BacktestThresholds;
  readonly eventsRead: number;
}

export function backtestMarkdown(meta: ReportMeta, file: PolicyFile, r: BacktestResult): string {
  const c = r.currency ?? '';
  const lines = [
    `# Policy backtest — shop ${meta.shopId}`,
    '',
    `Recoveries abandoned from ${meta.from} to ${meta.to} (exclusive); generated ${meta.generatedAt} from ${meta.eventsRead} events.`,
    `Candidate: \`${meta.policyFile}\` — ${file.catalogue.sequences.length} sequences (${file.catalogue.sequences.map((s) => `${s.id}@${s.version}`).join(', ')}); ` +
      `settings ${Object.keys(file.settings).length > 0 ? `\`${JSON.stringify(file.settings)}\`` : '(none: the shop’s current settings)'}.`,
    '',
    `| | |`,
    `|---|---|`,
    `| settled recoveries with logged propensities | ${r.recoveries} |`,
    `| recovered | ${r.recovered} |`,
    `| excluded: not settled yet | ${r.excluded.unsettled} |`,
    `| excluded: started before propensities were logged | ${r.excluded.propensityNotLogged} |`,
    `| candidate decisions on actions never logged there | ${(100 * r.unsupportedShare).toFixed(1)} % |`,
    '',
  ];
  if (r.status === 'refused') {
    lines.push(`## Refused: ${r.refusal?.reason}`, '', r.refusal?.message ?? '', '');
  }
  const e = r.estimates;
  if (e) {
    lines.push(
      `## Net revenue per recovery (${c})`,
      '',
      'Reward: the order that ended the recovery as purchased, less the discount cost of its attributed orders; 0 when not recovered.',
      '',
      '| estimate | value | 95 % interval | gain vs the policy that ran (95 % interval) |',
      '|---|---:|---|---|',
      `| policy that ran (on-policy mean) | ${money(e.onPolicy.value)} | ${money(e.onPolicy.low)} … ${money(e.onPolicy.high)} | — |`,
      `| candidate, inverse propensity (IPS) | ${money(e.ips.value)} | ${money(e.ips.low)} … ${money(e.ips.high)} | ${interval(e.gain.ips)} |`,
      `| candidate, self-normalised IPS | ${money(e.snips.value)} | ${money(e.snips.low)} … ${money(e.snips.high)} | ${interval(e.gain.snips)} |`,
      `| candidate, doubly robust | ${money(e.dr.value)} | ${money(e.dr.low)} … ${money(e.dr.high)} | ${interval(e.gain.dr)} |`,
      '',
      `Effective sample size ${e.effectiveSampleSize.toFixed(1)} of ${e.n} (mean weight ${e.meanWeight.toFixed(3)}, largest ${e.maxWeight.toFixed(2)}); ` +
        `${e.matched} recoveries took an action the candidate could take.`,
      `Intervals: sandwich (influence-function) normal intervals; the gain is paired per recovery.`,
      `Doubly robust reward model: ${r.rewardModel}.`,
      '',
    );
  }
  if (r.actions.length > 0) {
    lines.push(
      '## Actions',
      '',
      '| action | logged recoveries | mean reward | logging share | candidate share |',
      '|---|---:|---:|---:|---:|',
      ...r.actions.map(
        (a) =>
          `| ${a.action} | ${a.logged} | ${money(a.meanReward)} | ${(100 * a.loggingShare).toFixed(1)} % | ${(100 * a.candidateShare).toFixed(1)} % |`,
      ),
      '',
    );
  }
  lines.push(
    'What is not evaluated: settings that act on decisions the log does not randomise (channel choice, fatigue, quiet hours, ' +
      'consent) are assumed to behave as they did when logged.',
    '',
  );
  return lines.join('\n');
}
