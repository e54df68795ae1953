/**
 * Fatigue facts on a real PostgreSQL: what counts as an ignored message. Engagement is a click, a
 * human-looking open or an order after the message; an open within seconds of the send (a privacy
 * proxy fetching images) is not; the current recovery's own steps never count against it.
 */
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { migrateRecoveryEngine } from './schema';
import { customerHistoryFacts, incentiveEvidence, MACHINE_OPEN_WITHIN_SECONDS } from './facts';

const SHOP = 'shop-fatigue';
const T0 = Date.parse('2026-04-01T10:00:00Z');
const MIN = 60_000;
const at = (ms: number) => new Date(T0 + ms);

describe('fatigue facts (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_fatigue');
    pool = new Pool({ connectionString: db.url, max: 2 });
    await migrateRecoveryEngine(pool);
  });

  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function sent(customer: string, recovery: string, sentAt: Date, open?: { opened?: Date; clicked?: Date }) {
    n++;
    await pool.query(
      `INSERT INTO engine.sent_messages (shop_id, customer_key, recovery_id, step, channel, message_id, sent_at, opened_at, clicked_at)
       VALUES ($1, $2, $3, $4, 'email', $5, $6, $7, $8)`,
      [SHOP, customer, recovery, n, `m${n}`, sentAt, open?.opened ?? null, open?.clicked ?? null],
    );
  }
  const ignored = async (customer: string, recovery: string) =>
    (await customerHistoryFacts(pool, SHOP, customer, recovery)).ignoredRecoveryMessages;

  it("never counts the current recovery's own unopened steps", async () => {
    for (let i = 0; i < 3; i++) await sent('c-own', 'r-own', at(i * 60 * MIN));
    expect(await ignored('c-own', 'r-own')).toBe(0);
    expect(await ignored('c-own', 'r-next')).toBe(3);
  });

  it('an open within seconds of the send is a machine, not engagement; a later open is', async () => {
    await sent('c-mpp', 'r-old', at(0), { opened: at(5_000) });
    await sent('c-mpp', 'r-old', at(60 * MIN), { opened: at(60 * MIN + (MACHINE_OPEN_WITHIN_SECONDS - 1) * 1000) });
    expect(await ignored('c-mpp', 'r-now')).toBe(2);
    await sent('c-mpp', 'r-old2', at(120 * MIN), { opened: at(120 * MIN + 30 * MIN) });
    expect(await ignored('c-mpp', 'r-now')).toBe(0);
    await sent('c-mpp', 'r-old2', at(180 * MIN));
    expect(await ignored('c-mpp', 'r-now')).toBe(1);
  });

  it('a click or an order after a message resets the count', async () => {
    await sent('c-click', 'r-a', at(0));
    await sent('c-click', 'r-a', at(60 * MIN), { clicked: at(61 * MIN) });
    await sent('c-click', 'r-a', at(120 * MIN));
    expect(await ignored('c-click', 'r-b')).toBe(1);

    await sent('c-order', 'r-a', at(0));
    await sent('c-order', 'r-a', at(60 * MIN));
    expect(await ignored('c-order', 'r-b')).toBe(2);
    await pool.query(
      `INSERT INTO engine.customer_orders (shop_id, order_id, customer_key, placed_at, total, currency, discounted)
       VALUES ($1, 'o-1', 'c-order', $2, '10.00', 'USD', false)`,
      [SHOP, at(90 * MIN)],
    );
    expect(await ignored('c-order', 'r-b')).toBe(0);
  });

  it("the latest order's zone (from its address) is the customer's zone when the cart has none", async () => {
    expect((await customerHistoryFacts(pool, SHOP, 'c-zone', 'r-z')).lastOrderTimeZone).toBeUndefined();
    await pool.query(
      `INSERT INTO engine.customer_orders (shop_id, order_id, customer_key, placed_at, total, currency, discounted, time_zone)
       VALUES ($1, 'o-z1', 'c-zone', $2, '10.00', 'USD', false, 'America/Denver'),
              ($1, 'o-z2', 'c-zone', $3, '10.00', 'USD', false, 'Europe/Paris'),
              ($1, 'o-z3', 'c-zone', $4, '10.00', 'USD', false, NULL)`,
      [SHOP, at(0), at(60 * MIN), at(120 * MIN)],
    );
    expect((await customerHistoryFacts(pool, SHOP, 'c-zone', 'r-z')).lastOrderTimeZone).toBe('Europe/Paris');
  });

  it('the learned discounts’ evidence counts final outcomes per level, and no ladder recovery (fixed or the ladder arm)', async () => {
    const rows: [string, number, string, Date, Date | null, string | null][] = [
      ['i-1', 0, 'exploit', at(0), at(30 * MIN), 'purchased'],
      ['i-2', 0, 'explore', at(0), at(60 * MIN), 'expired'],
      ['i-3', 10, 'explore', at(0), at(30 * MIN), 'purchased'],
      ['i-4', 5, 'ladder', at(0), at(30 * MIN), 'purchased'],
      ['i-5', 5, 'fixed', at(0), at(30 * MIN), 'purchased'],
      ['i-6', 10, 'exploit', at(0), null, null], // pending: the window is still open
    ];
    for (const [id, percent, mode, decided, ended, reason] of rows) {
      await pool.query(
        `INSERT INTO engine.incentive_assignments (shop_id, recovery_id, segment, percent, propensity, mode, decided_at, ended_at, end_reason)
         VALUES ($1, $2, 'loyal', $3, 0.04, $4, $5, $6, $7)`,
        [SHOP, id, percent, mode, decided, ended, reason],
      );
    }
    const ev = await incentiveEvidence(pool, SHOP, 'loyal', at(120 * MIN), 24 * 60 * MIN);
    expect(ev.levels).toEqual([
      { percent: 0, assigned: 2, recovered: 1 },
      { percent: 10, assigned: 1, recovered: 1 },
    ]);
  });
});
