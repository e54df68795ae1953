/**
 * `model export` → `model evaluate` (RFC 0011): the shop's training table read from a real event
 * log, written as CSV, cross-validated by the evaluate command as an analyst would; and `model
 * train` prints the outcome.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { ModelTrainer } from '@reclaim/application';
import { seedRecoveries } from '@reclaim/application/learning/testing/seed-recoveries';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { PostgresEventStore, type EventStore } from '@reclaim/event-store';
import { modelEvaluate } from './model-evaluate';
import { modelExport, modelTrain } from './model-train';

const DAY = 86_400_000;
const FIRST = new Date('2026-05-01T10:00:00Z');
const NOW = new Date(FIRST.getTime() + 150 * DAY);

describe('model export → model evaluate (PostgreSQL)', () => {
  jest.setTimeout(120_000);
  let db: TestDatabase;
  let pool: Pool;
  let store: EventStore;
  let dir: string;
  const shop = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_model_export');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await PostgresEventStore.migrate(pool);
    store = new PostgresEventStore({ pool });
    dir = await mkdtemp(join(tmpdir(), 'reclaim-model-export-'));
    await seedRecoveries(store, {
      shopId: shop,
      count: 300,
      seed: 5,
      firstAt: FIRST,
      spacingMs: 8 * 3_600_000,
      orderAfterMs: DAY,
    });
  });

  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('exports the labelled table that model evaluate cross-validates', async () => {
    const file = join(dir, 'table.csv');
    const err: string[] = [];
    const code = await modelExport(store, { labelWindowMs: 7 * DAY }, shop, {
      out: file,
      now: NOW,
      io: { out: () => undefined, err: (l) => err.push(l) },
    });
    expect(code).toBe(0);
    expect(err.join('\n')).toMatch(/^300 labelled recoveries \(\d+ purchased within 168 h\) written to /);
    const csv = await readFile(file, 'utf8');
    expect(csv.split('\n')[0]).toBe(
      'cart_value,currency,item_count,categories,category_count,returning,orders_count,total_spent,days_since_last_purchase,previous_abandonments,previous_recoveries,discount_orders,device,traffic_source,local_hour,local_weekday,checkout_stage,ignored_recovery_messages,purchased',
    );
    const out: string[] = [];
    const evaluated = await modelEvaluate(['--csv', file, '--label', 'purchased', '--folds', '3'], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
    });
    expect(evaluated).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('300 rows');
    expect(Number(/AUC\s+([0-9.]+)/.exec(text)?.[1])).toBeGreaterThan(0.6);
  });

  it('with --ids the rows can be looked up (recovery id, abandonment, holdout)', async () => {
    let csv = '';
    await modelExport(store, { labelWindowMs: 7 * DAY }, shop, {
      ids: true,
      now: NOW,
      io: { out: (t) => (csv += t), err: () => undefined },
    });
    const [header, first] = csv.split('\n');
    expect(header.startsWith('recovery_id,shop_id,abandoned_at,holdout,feature_schema,cart_value')).toBe(true);
    expect(first.startsWith(`recovery-${shop}-c5-0,${shop},`)).toBe(true);
  });

  it('model train prints the outcome', async () => {
    const trainer = new ModelTrainer({
      store,
      settings: { labelWindowMs: 7 * DAY, minOutcomes: 100 },
      clock: () => NOW,
    });
    let text = '';
    const code = await modelTrain(trainer, shop, { out: (t) => (text += t), err: () => undefined });
    expect(code).toBe(0);
    expect(text).toMatch(
      /^model v1 \(shop, 240 training rows\) promoted: no-champion\nvalidation window .* \(60 rows, \d+ purchased\): AUC 0\.\d{4}, Brier 0\.\d{4}, ECE 0\.\d{4}\n$/,
    );
  });
});
