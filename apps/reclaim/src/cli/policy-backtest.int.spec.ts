/**
 * `policy backtest` against a real event log (PostgreSQL): 400 recoveries abandoned through the
 * real process manager with a 30 % holdout and a 50/50 send-time arm, bought with known
 * probabilities per action; the candidate (no holdout, send-time for everyone) is estimated within
 * its interval of its true value, and the command refuses what the log cannot say.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { seedBacktestLog, type SeededBacktestRecovery } from '@reclaim/application/learning/testing/seed-backtest-log';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { defaultRecoveryConfig, defaultSequences, recoveryConfig } from '@reclaim/domain';
import { PostgresEventStore, type EventStore } from '@reclaim/event-store';
import { policyBacktest, REFUSED_EXIT } from './policy-backtest';

const FIRST = new Date('2026-03-01T10:00:00Z');
const NOW = new Date('2026-06-01T00:00:00Z');
const RATE = { silent: 0.1, off: 0.2, on: 0.32 };

describe('policy backtest (PostgreSQL)', () => {
  jest.setTimeout(240_000);
  let db: TestDatabase;
  let pool: Pool;
  let store: EventStore;
  let dir: string;
  let seeded: SeededBacktestRecovery[];
  const shop = randomUUID();
  const shopConfig = recoveryConfig({ holdoutPercent: 30, sendTime: { enabled: true, armPercent: 50 } });

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_policy_backtest');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await PostgresEventStore.migrate(pool);
    store = new PostgresEventStore({ pool });
    dir = await mkdtemp(join(tmpdir(), 'reclaim-policy-backtest-'));
    seeded = await seedBacktestLog(store, {
      shopId: shop,
      count: 400,
      seed: 11,
      firstAt: FIRST,
      spacingMs: 4 * 3_600_000,
      holdoutPercent: 30,
      sendTimeArmPercent: 50,
      trueRate: (a) => (a.silent ? RATE.silent : a.sendTime === 'on' ? RATE.on : RATE.off),
    });
  });

  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function run(policy: unknown, extra: string[] = []) {
    const file = join(dir, `p${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, typeof policy === 'string' ? policy : JSON.stringify(policy));
    const md = join(dir, `r${Math.random().toString(36).slice(2)}.md`);
    const json = md.replace(/\.md$/, '.json');
    const out: string[] = [];
    const err: string[] = [];
    const code = await policyBacktest(
      // The first occurrence of an option counts: the test's own come first.
      [
        ...extra,
        '--shop',
        shop,
        '--from',
        '2026-03-01',
        '--to',
        '2026-05-10',
        '--policy',
        file,
        '--out-md',
        md,
        '--out-json',
        json,
      ],
      { store, shopConfig: async (id) => (id === shop ? shopConfig : undefined), now: NOW },
      { out: (l) => out.push(l), err: (l) => err.push(l) },
    );
    return { code, out, err, md, json };
  }

  const catalogue = { sequences: defaultSequences(defaultRecoveryConfig).sequences };

  it('estimates the candidate (no holdout, send-time for everyone) within its interval of the true value', async () => {
    const { code, out, err, md, json } = await run({
      catalogue,
      settings: { holdoutPercent: 0, sendTime: { enabled: true, armPercent: 100 } },
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const report = JSON.parse(await readFile(json, 'utf8'));
    expect(report.result.status).toBe('estimated');
    expect(report.result.recoveries).toBe(seeded.length);
    const meanValue = seeded.reduce((s, r) => s + r.value, 0) / seeded.length;
    const truth = meanValue * RATE.on;
    const ran =
      seeded.reduce((s, r) => s + r.value * (r.silent ? RATE.silent : r.sendTime === 'on' ? RATE.on : RATE.off), 0) /
      seeded.length;
    const { dr, ips, onPolicy } = report.result.estimates;
    expect(dr.low).toBeLessThan(truth);
    expect(dr.high).toBeGreaterThan(truth);
    expect(ips.low).toBeLessThan(truth);
    expect(ips.high).toBeGreaterThan(truth);
    expect(onPolicy.low).toBeLessThan(ran);
    expect(onPolicy.high).toBeGreaterThan(ran);
    expect(report.result.unsupportedShare).toBe(0);
    const text = await readFile(md, 'utf8');
    expect(text).toContain(`# Policy backtest — shop ${shop}`);
    expect(text).toMatch(/\| candidate, doubly robust \| \d+\.\d\d \|/);
    expect(text).toContain('live welcome@1 send-time:on');
    expect(out.join('\n')).toMatch(/gain \(DR − ran\)/);
    console.log(
      `backtest on 400 seeded recoveries: true ${truth.toFixed(2)}, DR ${dr.value.toFixed(2)} [${dr.low.toFixed(2)}, ${dr.high.toFixed(2)}], ` +
        `IPS ${ips.value.toFixed(2)} [${ips.low.toFixed(2)}, ${ips.high.toFixed(2)}], ran ${ran.toFixed(2)} vs on-policy ${onPolicy.value.toFixed(2)}; ESS ${report.result.estimates.effectiveSampleSize.toFixed(1)}`,
    );
  });

  it('refuses a catalogue whose sequences the log never ran (exit 3), and still writes the report', async () => {
    const changed = {
      sequences: catalogue.sequences.map((s) => ({
        ...s,
        steps: s.steps.map((st) => ({ ...st, delayMs: st.delayMs + 3_600_000 })),
      })),
    };
    const { code, err, md } = await run({ catalogue: changed, settings: { holdoutPercent: 0 } });
    expect(code).toBe(REFUSED_EXIT);
    expect(err.join('\n')).toMatch(/refused \(actions-never-logged\)/);
    expect(await readFile(md, 'utf8')).toContain('## Refused: actions-never-logged');
  });

  it('refuses too few recoveries and too little randomisation, naming why', async () => {
    const few = await run({ catalogue }, ['--min-recoveries', '5000']);
    expect(few.code).toBe(REFUSED_EXIT);
    expect(few.err.join('\n')).toMatch(/too-few-recoveries\): 400 settled recoveries .* at least 5000 are needed/);
    const ess = await run(
      { catalogue, settings: { holdoutPercent: 0, sendTime: { enabled: true, armPercent: 100 } } },
      ['--min-ess', '1000'],
    );
    expect(ess.code).toBe(REFUSED_EXIT);
    expect(ess.err.join('\n')).toMatch(
      /too-little-randomisation\): too little randomisation: the effective sample size is \d+\.\d/,
    );
  });

  it('counts only the recoveries abandoned in the window', async () => {
    const { code, json } = await run({ catalogue }, ['--to', '2026-03-15']);
    expect(code).toBe(REFUSED_EXIT); // two weeks: below the default 100
    const report = JSON.parse(await readFile(json, 'utf8'));
    // Abandoned at FIRST + i × 4 h, before 15 March 00:00.
    expect(report.result.recoveries).toBe(
      Math.ceil((Date.parse('2026-03-15T00:00:00Z') - FIRST.getTime()) / (4 * 3_600_000)),
    );
    expect(report.result.excluded).toEqual({ unsettled: 0, propensityNotLogged: 0 });
  });
});
