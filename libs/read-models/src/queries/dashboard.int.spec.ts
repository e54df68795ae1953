/**
 * The dashboard queries on a real PostgreSQL, over rows written straight into the read models:
 * the activity chart's buckets follow the span of the data (hours, days, weeks) and start at the
 * first event, the 30-day cut-off of the recovery rate, and the per-sequence / per-step views.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { migrateReadModels } from '../migrate';
import { activity, bucketFor, dashboardKpis, sequenceEffectiveness, stepEffectiveness } from './dashboard';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('bucketFor', () => {
  it('hours up to two days, days up to 120 days, weeks beyond', () => {
    expect(bucketFor(0)).toBe('hour');
    expect(bucketFor(48 * HOUR)).toBe('hour');
    expect(bucketFor(48 * HOUR + 1)).toBe('day');
    expect(bucketFor(120 * DAY)).toBe('day');
    expect(bucketFor(120 * DAY + 1)).toBe('week');
  });
});

describe('dashboard queries', () => {
  let db: TestDatabase;
  let pool: Pool;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_dashboard');
    pool = new Pool({ connectionString: db.url, max: 2 });
    await migrateReadModels(pool, db.url);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  /** A recovery abandoned at `at`, messaged at step 0 an hour later, optionally recovered after `recoveredAfter` ms. */
  async function recovery(shopId: string, at: Date, options: { recoveredAfter?: number; sequence?: string } = {}) {
    const id = `recovery-${shopId}-cart-${randomUUID()}`;
    const recoveredAt = options.recoveredAfter === undefined ? null : new Date(at.getTime() + options.recoveredAfter);
    await pool.query(
      `INSERT INTO read.recoveries (recovery_id, shop_id, cart_id, status, paused, first_abandoned_at, times_abandoned,
                                    shop_time_zone, holdout, segments, sequence_id, messages_sent, recovered,
                                    recovered_at, currency, position, mode, arm)
       VALUES ($1, $2, $3, 'running', false, $4, 1, 'UTC', false, ARRAY['new'], $5, 1, $6, $7, 'USD', '0', 'live',
               'live-treated')`,
      [id, shopId, `cart-${id}`, at, options.sequence ?? 'welcome', recoveredAt !== null, recoveredAt],
    );
    await pool.query(
      `INSERT INTO read.messages (recovery_id, step, shop_id, channel, status, attempts, deferrals, template_id,
                                  sent_at, position)
       VALUES ($1, 0, $2, 'email', 'sent', 1, 0, 'welcome-0', $3, '0')`,
      [id, shopId, new Date(at.getTime() + HOUR)],
    );
  }

  const day = (d: Date) => d.toISOString().slice(0, 10);

  it('draws a few hours by the hour, from the first event to now', async () => {
    const shopId = randomUUID();
    const now = new Date('2026-03-10T15:20:00Z');
    await recovery(shopId, new Date('2026-03-10T12:05:00Z'));
    const a = await activity(pool, { shopIds: [shopId], from: '2026-02-09', to: '2026-03-10', timeZone: 'UTC' }, now);
    expect(a.bucket).toBe('hour');
    expect(a.points.map((p) => p.at)).toEqual([
      '2026-03-10T12:00',
      '2026-03-10T13:00',
      '2026-03-10T14:00',
      '2026-03-10T15:00',
    ]);
    expect(a.points.map((p) => [p.abandoned, p.messaged])).toEqual([
      [1, 0],
      [0, 1],
      [0, 0],
      [0, 0],
    ]);
    // In the shop's zone: the hours move with it.
    const tokyo = await activity(
      pool,
      { shopIds: [shopId], from: '2026-03-10', to: '2026-03-11', timeZone: 'Asia/Tokyo' },
      now,
    );
    expect(tokyo.points[0].at).toBe('2026-03-10T21:00');
  });

  it('draws ten days by the day and a long history by the week; nothing is an empty series', async () => {
    const shopId = randomUUID();
    const start = new Date('2025-01-05T10:00:00Z');
    for (let i = 0; i < 10; i++) await recovery(shopId, new Date(start.getTime() + i * DAY));
    const later = new Date('2026-01-01T00:00:00Z');
    const tenDays = await activity(
      pool,
      { shopIds: [shopId], from: '2024-12-20', to: '2025-01-19', timeZone: 'UTC' },
      later,
    );
    expect(tenDays.bucket).toBe('day');
    expect(tenDays.points[0].at).toBe('2025-01-05');
    expect(tenDays.points).toHaveLength(10);
    expect(tenDays.points.reduce((n, p) => n + p.abandoned, 0)).toBe(10);
    await recovery(shopId, new Date('2025-07-01T10:00:00Z'));
    const long = await activity(
      pool,
      { shopIds: [shopId], from: '2025-01-01', to: '2025-12-31', timeZone: 'UTC' },
      later,
    );
    expect(long.bucket).toBe('week');
    expect(long.points.reduce((n, p) => n + p.abandoned, 0)).toBe(11);
    const empty = await activity(
      pool,
      { shopIds: [shopId], from: '2020-01-01', to: '2020-01-31', timeZone: 'UTC' },
      later,
    );
    expect(empty.points).toEqual([]);
  });

  it('counts a purchase within 30 days of abandonment, not one later; per sequence and per step', async () => {
    const shopId = randomUUID();
    const at = new Date('2025-02-01T10:00:00Z');
    await recovery(shopId, at, { recoveredAfter: 2 * DAY });
    await recovery(shopId, at, { recoveredAfter: 40 * DAY });
    await recovery(shopId, at, { sequence: 'premium' });
    await recovery(shopId, at);
    const period = { shopIds: [shopId], from: day(at), to: day(at) };
    const kpis = await dashboardKpis(pool, period);
    expect(kpis.treated).toMatchObject({
      carts: 4,
      recovered: 2,
      recoveryRate: 0.5,
      recoveredWithin30Days: 1,
      recoveryRateWithin30Days: 0.25,
      cartsStillInWindow: 0,
    });
    const sequences = await sequenceEffectiveness(pool, period);
    expect(sequences.filter((s) => s.segment === 'all')).toEqual([
      expect.objectContaining({ sequenceId: 'premium', treatedCarts: 1, treatedRecovered: 0, holdoutCarts: 0 }),
      expect.objectContaining({ sequenceId: 'welcome', treatedCarts: 3, treatedRecovered: 2, difference: null }),
    ]);
    const steps = await stepEffectiveness(pool, period);
    expect(steps).toEqual([
      expect.objectContaining({ sequenceId: 'premium', step: 0, sent: 1, orders: 0 }),
      expect.objectContaining({ sequenceId: 'welcome', step: 0, sent: 3, templateId: 'welcome-0', skippedFatigue: 0 }),
    ]);
  });

  it('the per-step view counts the steps skipped for engagement fatigue, even a step never sent', async () => {
    const shopId = randomUUID();
    const at = new Date('2025-03-01T10:00:00Z');
    await recovery(shopId, at);
    const { rows } = await pool.query<{ recovery_id: string }>(
      'SELECT recovery_id FROM read.recoveries WHERE shop_id = $1',
      [shopId],
    );
    await pool.query(
      `INSERT INTO read.messages (recovery_id, step, shop_id, status, reason, attempts, deferrals, template_id, position)
       VALUES ($1, 3, $2, 'skipped', 'engagement-fatigue', 1, 0, 'welcome-3', '0'),
              ($1, 2, $2, 'skipped', 'all-out-of-stock', 1, 0, 'welcome-2', '0')`,
      [rows[0].recovery_id, shopId],
    );
    const steps = await stepEffectiveness(pool, { shopIds: [shopId], from: day(at), to: day(at) });
    expect(steps.map((s) => [s.step, s.sent, s.skippedFatigue])).toEqual([
      [0, 1, 0],
      [3, 0, 1],
    ]);
  });
});
