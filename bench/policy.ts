/**
 * The policy lab (docs/policy-lab.md): the appliance's deciders against a simulated shopper
 * population, per policy — today's fixed rules, the learning policy, an oracle that knows the true
 * parameters — next to a no-message counterfactual on the same shoppers.
 *
 *   npm run bench:policy -- --population bench/populations/loyal-regulars.json --shoppers 20000 --days 14 --seed 1
 *   npm run bench:policy -- --population <file> --shoppers 20000 --days 14 --seed 1 --seeds 20
 *   npm run bench:policy -- --population <file> --policy bench/policies/learning.json   (another policy file too)
 *
 * One seed: a table per policy. `--seeds K`: seeds S … S+K−1, then per policy the mean and spread
 * of the incremental net revenue, learning ÷ fixed, policy ÷ oracle, and how often the measured
 * lift interval covered the true lift. `--json <file>` writes every figure.
 *
 *   … --export-log postgres://postgres@127.0.0.1:5432/lab_log   (the learning policy's log, as the appliance stores it)
 *   … --backtest-check [--seeds K]   (per seed: export, `policy backtest` of the fixed rules, compare with their truth)
 *
 * `--export-log <url>` writes each seed's learning-policy log into that PostgreSQL database (made
 * when missing) under a fresh shop id, printed. `--backtest-check` needs DATABASE_URL (a server
 * where a throw-away database is made and dropped per seed); RFC 0019.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { backtestCheckSeed, type BacktestCheckRow, type CandidateEstimate } from './policy-lab/backtest-check';
import { exportLabLogTo, LabLog } from './policy-lab/log-export';
import { loadPopulation, PopulationError } from './policy-lab/population';
import {
  FIXED_POLICY,
  LEARNING_POLICY,
  oraclePolicy,
  policyFromFile,
  policyOf,
  runLab,
  type LabRun,
  type PolicyResult,
} from './policy-lab/lab';
import type { LabPolicy } from './policy-lab/engine';

interface Args {
  population: string[];
  shoppers: number;
  days: number;
  seed: number;
  seeds: number;
  policy: string[];
  json?: string;
  exportLog?: string;
  backtestCheck: boolean;
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run bench:policy -- --population <file> [--population <file> …] --shoppers N --days D --seed S [--seeds K] [--policy <file> …] [--json <file>] [--export-log <postgres url>] [--backtest-check]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { population: [], shoppers: 20_000, days: 14, seed: 1, seeds: 1, policy: [], backtestCheck: false };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[i + 1];
    const int = (name: string, min: number, max: number) => {
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < min || n > max)
        usage(`${name} must be an integer from ${min} to ${max}`);
      i++;
      return n;
    };
    switch (key) {
      case '--population':
        if (value === undefined) usage('--population needs a file');
        a.population.push(value);
        i++;
        break;
      case '--policy':
        if (value === undefined) usage('--policy needs a file');
        a.policy.push(value);
        i++;
        break;
      case '--json':
        if (value === undefined) usage('--json needs a file');
        a.json = value;
        i++;
        break;
      case '--export-log':
        if (value === undefined || !/^postgres(ql)?:\/\//.test(value))
          usage('--export-log needs a PostgreSQL URL of the database to write (postgres://…/<database>)');
        a.exportLog = value;
        i++;
        break;
      case '--backtest-check':
        a.backtestCheck = true;
        break;
      case '--shoppers':
        a.shoppers = int('--shoppers', 1, 10_000_000);
        break;
      case '--days':
        a.days = int('--days', 1, 365);
        break;
      case '--seed':
        a.seed = int('--seed', 0, 2 ** 31);
        break;
      case '--seeds':
        a.seeds = int('--seeds', 1, 1000);
        break;
      default:
        usage(`unknown argument ${key}`);
    }
  }
  if (a.population.length === 0) usage('--population is required');
  return a;
}

const money = (x: number) => x.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: 0 });
const m2 = (x: number) => x.toFixed(2);

function printRun(run: LabRun): void {
  const { options } = run;
  process.stdout.write(
    `\n${run.population} — ${options.shoppers} shoppers over ${options.days} days, seed ${options.seed}\n`,
  );
  const rows = run.results.map((r) => {
    const m = r.measured;
    const measured =
      m.status === 'ok'
        ? `${m2(m.netRevenuePerCartLift.estimate)} [${m2(m.netRevenuePerCartLift.low)}, ${m2(m.netRevenuePerCartLift.high)}]`
        : `not enough data (${m.treatedCarts}/${m.holdoutCarts})`;
    return [
      r.policy,
      money(r.netRevenue),
      money(r.incrementalNet),
      money(r.discountCost),
      `${r.messages.email}/${r.messages.sms}`,
      money(r.messageCost),
      String(r.unsubscribes),
      measured,
      m2(r.trueLiftPerCart),
      r.covered === undefined ? '—' : r.covered ? 'yes' : 'no',
      `${(r.runMs / 1000).toFixed(1)} s / ${(r.cpuMs / 1000).toFixed(1)} s`,
    ];
  });
  const head = [
    'policy',
    'net revenue',
    'incremental net',
    'discount cost',
    'email/sms sent',
    'msg cost',
    'unsubs',
    'measured lift/cart [95 %]',
    'true lift/cart',
    'covered',
    'wall / CPU',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  process.stdout.write(`${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
  const b = run.baseline;
  process.stdout.write(
    `run time: no-message run (shoppers and clock alone) ${(b.runMs / 1000).toFixed(1)} s wall / ${(b.cpuMs / 1000).toFixed(1)} s CPU; ` +
      run.results.map((r) => `${r.policy} ${(r.cpuMs / Math.max(1, b.cpuMs)).toFixed(1)}×`).join(', ') +
      ' its CPU time\n',
  );
  for (const r of run.results) {
    if (r.models > 0) {
      const bands = Object.entries(r.bands)
        .map(([b, n]) => `${b} ${n}`)
        .join(', ');
      process.stdout.write(`  ${r.policy}: ${r.models} recovery-score models trained; routing bands: ${bands}\n`);
    }
    if (r.experiments.length > 0) {
      const arms = (x: PolicyResult['experiments'][number]) =>
        x.evidence.map((v) => `${v.variantId} ${v.recovered}/${v.settled}`).join(', ');
      process.stdout.write(`  ${r.policy}: ${r.experiments.length} experiments (recovered/settled per variant)\n`);
      for (const x of r.experiments) {
        const what = x.adoptedVariantId
          ? `adopted ${x.adoptedVariantId}`
          : x.status === 'closed'
            ? `closed (${x.closeReason ?? ''})`
            : x.status === 'none'
              ? 'not evaluated yet'
              : 'running';
        const stopped = x.stopped.length > 0 ? `; stopped ${x.stopped.join(', ')}` : '';
        process.stdout.write(`    ${x.experimentId}: ${what}${stopped}; ${arms(x)}\n`);
      }
    }
    if (r.refused > 0) process.stdout.write(`  ${r.policy}: ${r.refused} inputs refused by the deciders\n`);
  }
}

function stats(xs: readonly number[]): { mean: number; sd: number; min: number; max: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
}

export interface SeedSummary {
  readonly population: string;
  readonly seeds: number;
  readonly incremental: Record<string, ReturnType<typeof stats>>;
  readonly learningOverFixed?: ReturnType<typeof stats>;
  /** learning − fixed incremental net revenue per seed (the ratio means little where the fixed rules earn ≈ 0). */
  readonly learningMinusFixed?: ReturnType<typeof stats>;
  readonly overOracle: Record<string, ReturnType<typeof stats>>;
  readonly coverage: Record<string, { covered: number; measured: number }>;
}

function summarise(population: string, runs: readonly LabRun[]): SeedSummary {
  const by = (name: string) => runs.map((r) => r.results.find((x) => x.policy === name) as PolicyResult);
  const names = runs[0].results.map((r) => r.policy);
  const incremental: SeedSummary['incremental'] = {};
  const overOracle: SeedSummary['overOracle'] = {};
  const coverage: SeedSummary['coverage'] = {};
  for (const n of names) {
    const rs = by(n);
    incremental[n] = stats(rs.map((r) => r.incrementalNet));
    if (names.includes('oracle') && n !== 'oracle') {
      const o = by('oracle');
      overOracle[n] = stats(rs.map((r, i) => r.incrementalNet / o[i].incrementalNet));
    }
    const measured = rs.filter((r) => r.covered !== undefined);
    coverage[n] = { covered: measured.filter((r) => r.covered).length, measured: measured.length };
  }
  const learningOverFixed =
    names.includes('learning') && names.includes('fixed')
      ? stats(by('learning').map((r, i) => r.incrementalNet / by('fixed')[i].incrementalNet))
      : undefined;
  const learningMinusFixed =
    names.includes('learning') && names.includes('fixed')
      ? stats(by('learning').map((r, i) => r.incrementalNet - by('fixed')[i].incrementalNet))
      : undefined;
  return {
    population,
    seeds: runs.length,
    incremental,
    ...(learningOverFixed ? { learningOverFixed } : {}),
    ...(learningMinusFixed ? { learningMinusFixed } : {}),
    overOracle,
    coverage,
  };
}

function printSummary(s: SeedSummary): void {
  const f = (x: ReturnType<typeof stats>, d = 2) =>
    `${x.mean.toFixed(d)} ± ${x.sd.toFixed(d)} (min ${x.min.toFixed(d)}, max ${x.max.toFixed(d)})`;
  process.stdout.write(`\n${s.population} — ${s.seeds} seeds\n`);
  for (const [n, x] of Object.entries(s.incremental)) {
    const o = s.overOracle[n];
    const c = s.coverage[n];
    process.stdout.write(
      `  ${n.padEnd(10)} incremental net ${f(x, 0)}` +
        (o ? `; ÷ oracle ${f(o)}` : '') +
        `; measured interval covers the true lift in ${c.covered}/${c.measured} seeds\n`,
    );
  }
  if (s.learningOverFixed)
    process.stdout.write(`  learning ÷ fixed incremental net revenue: ${f(s.learningOverFixed)}\n`);
  if (s.learningMinusFixed)
    process.stdout.write(`  learning − fixed incremental net revenue: ${f(s.learningMinusFixed, 0)}\n`);
}

const iv = (x: { value: number; low: number; high: number } | undefined) =>
  x === undefined ? '—' : `${m2(x.value)} [${m2(x.low)}, ${m2(x.high)}]`;

async function backtestCheck(args: Args): Promise<void> {
  const server = process.env.DATABASE_URL;
  if (server === undefined) usage('--backtest-check needs DATABASE_URL (a PostgreSQL server for throw-away databases)');
  const rows: BacktestCheckRow[] = [];
  const yes = (b: boolean | undefined) => (b === undefined ? '—' : b ? 'yes' : 'no');
  const est = (c: CandidateEstimate) =>
    c.status === 'estimated'
      ? `DR ${iv(c.dr)}, IPS ${iv(c.ips)}, ESS ${c.effectiveSampleSize?.toFixed(0)}, unsupported ${(100 * c.unsupportedShare).toFixed(1)} %`
      : `refused (${c.refusal?.split(':')[0]}; unsupported ${(100 * c.unsupportedShare).toFixed(1)} %: ` +
        Object.entries(c.unsupportedBy ?? {})
          .map(([k, v]) => `${k} ${(100 * v).toFixed(1)} %`)
          .join(', ') +
        (c.effectiveSampleSize !== undefined ? `, ESS ${c.effectiveSampleSize.toFixed(0)}` : '') +
        ')';
  for (const file of args.population) {
    const population = loadPopulationOrExit(file);
    process.stdout.write(
      `\n${population.name} — policy backtest of the fixed rules on the learning policy's exported log, ` +
        `${args.shoppers} shoppers × ${args.days} days (net revenue per recovery, 95 % intervals)\n`,
    );
    const mine: BacktestCheckRow[] = [];
    for (let k = 0; k < args.seeds; k++) {
      const r = await backtestCheckSeed(
        population,
        { shoppers: args.shoppers, days: args.days, seed: args.seed + k },
        server,
      );
      mine.push(r);
      process.stdout.write(
        `  seed ${r.seed} (${r.fixed.recoveries} recoveries, ${r.seconds.toFixed(0)} s); learning on-policy ${iv(r.fixedRouted.onPolicy)}\n` +
          `    fixed rules:        ${est(r.fixed)}; truth ${m2(r.truthFixed)}, covered ${yes(r.coveredFixed)}\n` +
          `    fixed, routed:      ${est(r.fixedRouted)}; truth (hybrid) ${m2(r.truthHybrid)}, covered ${yes(r.coveredHybrid)}; ` +
          `the fixed rules' truth covered ${yes(r.routedCoversFixed)}\n`,
      );
    }
    const count = (f: (r: BacktestCheckRow) => boolean | undefined) => mine.filter((r) => f(r) === true).length;
    const a = mine.filter((r) => r.fixed.status === 'estimated').length;
    const b = mine.filter((r) => r.fixedRouted.status === 'estimated').length;
    process.stdout.write(
      `${population.name}: fixed rules estimated on ${a}/${mine.length} seeds, covered ${count((r) => r.coveredFixed)}/${a}; ` +
        `fixed-routed estimated on ${b}/${mine.length}, covers the hybrid's truth ${count((r) => r.coveredHybrid)}/${b}, ` +
        `the fixed rules' ${count((r) => r.routedCoversFixed)}/${b}\n`,
    );
    rows.push(...mine);
  }
  if (args.json !== undefined) writeFileSync(args.json, JSON.stringify({ backtestCheck: rows }, null, 2));
}

function loadPopulationOrExit(file: string) {
  try {
    return loadPopulation(file);
  } catch (e) {
    if (e instanceof PopulationError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.backtestCheck) return backtestCheck(args);
  const policies: LabPolicy[] = [
    policyOf('fixed', 'fixed', FIXED_POLICY, 'fixed rules'),
    policyOf('learning', 'learning', LEARNING_POLICY, 'learning policy'),
    oraclePolicy(),
    ...args.policy.map((p) => policyFromFile(basename(p, '.json'), 'learning', p)),
  ];
  const out: { runs: LabRun[]; summaries: SeedSummary[] } = { runs: [], summaries: [] };
  for (const file of args.population) {
    const population = loadPopulationOrExit(file);
    const runs: LabRun[] = [];
    for (let k = 0; k < args.seeds; k++) {
      const log = args.exportLog !== undefined ? new LabLog(randomUUID(), population.currency) : undefined;
      const run = runLab(
        population,
        { shoppers: args.shoppers, days: args.days, seed: args.seed + k },
        policies,
        (p) => (log !== undefined && p.name === 'learning' ? { shopId: log.shopId, log } : {}),
      );
      if (log !== undefined && args.exportLog !== undefined) {
        const n = await exportLabLogTo(log, args.exportLog);
        process.stdout.write(
          `  exported the learning policy's log (seed ${args.seed + k}): shop ${log.shopId}, ${n.streams} recovery streams, ` +
            `${n.orders} orders, ${n.events} events → ${args.exportLog.replace(/\/\/[^@]*@/, '//')}\n`,
        );
      }
      runs.push(run);
      if (args.seeds === 1) printRun(run);
      else {
        const l = run.results.find((r) => r.policy === 'learning');
        const fx = run.results.find((r) => r.policy === 'fixed');
        process.stdout.write(
          `  seed ${args.seed + k}: fixed ${money(fx?.incrementalNet ?? 0)}, learning ${money(l?.incrementalNet ?? 0)}, ` +
            `oracle ${money(run.results.find((r) => r.policy === 'oracle')?.incrementalNet ?? 0)}\n`,
        );
      }
    }
    out.runs.push(...runs);
    if (args.seeds > 1) {
      const s = summarise(population.name, runs);
      out.summaries.push(s);
      printSummary(s);
    }
  }
  if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(out, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
