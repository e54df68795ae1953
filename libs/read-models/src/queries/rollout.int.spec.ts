/**
 * Lift arms that do not mix, on a real PostgreSQL: during a 50 % rollout (and with older
 * `recovery.started` v1 events in the log) the dashboard's lift is live-treated vs holdout only,
 * shadow and outside-rollout recoveries are their own arms in the read models, the analyst views
 * and the rollout report.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { migrateRecoveryEngine, ShopRegistry } from '@reclaim/application';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { fromStoredRecoveryEvent, type RecoveryArm } from '@reclaim/domain';
import { ensureCheckpointTable, PostgresEventStore, type EventStore } from '@reclaim/event-store';
import { liftReport } from '../lift/lift-query';
import { migrateReadModels, readModelsDataSource } from '../migrate';
import { READ_MODEL_PROJECTIONS, rebuildProjection } from '../projections';
import { appendSimulation, simulate, type SimulatedLog } from '../testing/simulate';
import { dashboardKpis, recoveryBySegment, sequenceEffectiveness } from './dashboard';

/** Arm and outcome of every started recovery, read from the log itself (not the read models). */
function armsOf(logs: readonly SimulatedLog[]): Map<RecoveryArm, { carts: number; recovered: number }> {
  const arms = new Map<RecoveryArm, { carts: number; recovered: number }>();
  for (const log of logs) {
    for (const s of log.streams) {
      if (!s.streamId.startsWith('recovery-')) continue;
      const events = s.events.map((e) => fromStoredRecoveryEvent(e));
      const started = events.find((e) => e.type === 'recovery.started');
      if (started?.type !== 'recovery.started') continue;
      const a = arms.get(started.arm) ?? { carts: 0, recovered: 0 };
      a.carts++;
      if (events.some((e) => e.type === 'recovery.ended' && e.reason === 'purchased')) a.recovered++;
      arms.set(started.arm, a);
    }
  }
  return arms;
}

describe('lift arms during a staged rollout (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: EventStore;
  const staged = randomUUID();
  const shadow = randomUUID();
  let stagedLogs: SimulatedLog[];

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_rollout');
    pool = new Pool({ connectionString: db.url, max: 6 });
    await PostgresEventStore.migrate(pool);
    await ensureCheckpointTable(pool);
    await ShopRegistry.migrate(pool);
    await migrateRecoveryEngine(pool);
    await migrateReadModels(pool, db.url);
    store = new PostgresEventStore({ pool });
    const start = new Date('2026-03-02T00:00:00Z');
    // The staged shop: half written before the arms were recorded (v1), half after; 50 % rollout.
    stagedLogs = [
      simulate({ shopId: staged, carts: 250, seed: 3, start, days: 10, rolloutPercent: 50, startedV1: true }),
      simulate({ shopId: staged, carts: 250, seed: 4, start, days: 10, rolloutPercent: 50, offset: 250 }),
    ];
    for (const log of stagedLogs) await appendSimulation(store, log);
    await appendSimulation(store, simulate({ shopId: shadow, carts: 40, seed: 5, start, days: 10, shadowMode: true }));
    for (const p of READ_MODEL_PROJECTIONS) await rebuildProjection(p, { store, pool });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  const period = (shopId: string) => ({ shopIds: [shopId], from: '2026-02-25', to: '2026-03-20' });

  it("the dashboard's lift during a 50 % rollout equals live-treated vs holdout; outside-rollout is its own arm", async () => {
    const expected = armsOf(stagedLogs);
    const live = expected.get('live-treated')!;
    const holdout = expected.get('holdout')!;
    const outside = expected.get('outside-rollout')!;
    expect(live.carts).toBeGreaterThan(100);
    expect(outside.carts).toBeGreaterThan(100);
    expect(holdout.carts).toBeGreaterThan(50);
    expect(expected.has('shadow')).toBe(false);

    const kpis = await dashboardKpis(pool, period(staged));
    expect(kpis.arms['live-treated']).toMatchObject(live);
    expect(kpis.arms.holdout).toMatchObject(holdout);
    expect(kpis.arms['outside-rollout']).toMatchObject(outside);
    expect(kpis.arms.shadow.carts).toBe(0);
    expect(kpis.treated).toEqual(kpis.arms['live-treated']);
    expect(kpis.abandonedCarts).toBe(live.carts + holdout.carts + outside.carts);
    expect(kpis.lift.status).toBe('ok');
    if (kpis.lift.status !== 'ok') return;
    const trueLift = live.recovered / live.carts - holdout.recovered / holdout.carts;
    expect(kpis.lift.recoveryRateLift.estimate).toBeCloseTo(trueLift, 10);
    // Mixing the carts that received nothing into "treated" would report a smaller lift.
    const mixed =
      (live.recovered + outside.recovered) / (live.carts + outside.carts) - holdout.recovered / holdout.carts;
    expect(mixed).toBeLessThan(trueLift - 0.01);

    // The analyst views and the other dashboard queries use the same arms.
    const all = (await liftReport(pool, { shopId: staged, minimum: 2 })).filter((r) => r.segment === 'all');
    const carts = all.reduce((n, r) => n + (r.lift.status === 'ok' ? r.lift.treatedCarts : 0), 0);
    expect(carts).toBe(live.carts);
    const view = await pool.query<{ treated_carts: number; holdout_carts: number }>(
      `SELECT sum(treated_carts)::int AS treated_carts, sum(holdout_carts)::int AS holdout_carts
         FROM read.lift WHERE shop_id = $1 AND segment = 'all'`,
      [staged],
    );
    expect(view.rows[0]).toEqual({ treated_carts: live.carts, holdout_carts: holdout.carts });
    const segments = await recoveryBySegment(pool, period(staged));
    expect(segments.find((s) => s.segment === 'all')).toMatchObject({
      treatedCarts: live.carts,
      treatedRecovered: live.recovered,
      holdoutCarts: holdout.carts,
      holdoutRecovered: holdout.recovered,
    });
    const sequences = await sequenceEffectiveness(pool, period(staged));
    expect(sequences.filter((s) => s.segment === 'all').reduce((n, s) => n + s.treatedCarts, 0)).toBe(live.carts);
  });

  it('the rollout report lays every arm side by side, each with its difference to the holdout', async () => {
    const expected = armsOf(stagedLogs);
    const { rows } = await pool.query<{
      arm: string;
      carts: number;
      recovered: number;
      recovery_rate_vs_holdout: string;
    }>(
      `SELECT arm, sum(carts)::int AS carts, sum(recovered)::int AS recovered,
              max(recovery_rate_vs_holdout) FILTER (WHERE sequence_id = 'none') AS recovery_rate_vs_holdout
         FROM read.rollout_report WHERE shop_id = $1 AND segment = 'all' GROUP BY arm ORDER BY arm`,
      [staged],
    );
    expect(Object.fromEntries(rows.map((r) => [r.arm, { carts: r.carts, recovered: r.recovered }]))).toEqual(
      Object.fromEntries([...expected].sort().map(([arm, v]) => [arm, v])),
    );
    const funnel = await pool.query<{ arm: string; abandoned: number }>(
      `SELECT arm, sum(abandoned)::int AS abandoned FROM read.daily_funnel
        WHERE shop_id = $1 AND segment = 'all' AND step = -1 GROUP BY arm ORDER BY arm`,
      [staged],
    );
    expect(funnel.rows).toEqual([...expected].sort().map(([arm, v]) => ({ arm, abandoned: v.carts })));
  });

  it('a shop in shadow mode has only shadow and holdout carts, and no lift to report', async () => {
    const kpis = await dashboardKpis(pool, period(shadow), { minimum: 2 });
    expect(kpis.arms.shadow.carts).toBeGreaterThan(0);
    expect(kpis.arms['live-treated'].carts).toBe(0);
    expect(kpis.arms['outside-rollout'].carts).toBe(0);
    expect(kpis.abandonedCarts).toBe(kpis.arms.shadow.carts + kpis.arms.holdout.carts);
    expect(kpis.lift.status).toBe('not enough data yet');
  });

  it('a recovery.started v1 is read with the documented rule (holdout first, then the send mode)', async () => {
    const v1 = stagedLogs[0].streams.filter((s) => s.streamId.startsWith('recovery-'));
    const started = v1.flatMap((s) => s.events).filter((e) => e.type === 'recovery.started');
    expect(started.length).toBeGreaterThan(0);
    for (const e of started) {
      expect(e.schemaVersion).toBe(1);
      expect((e.data as { arm?: string }).arm).toBeUndefined();
      const read = fromStoredRecoveryEvent(e);
      if (read.type !== 'recovery.started') throw new Error('not a start');
      expect(read.schemaVersion).toBe(3);
      expect(read.arm).toBe(read.holdout ? 'holdout' : read.mode.kind === 'live' ? 'live-treated' : 'outside-rollout');
    }
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM read.recoveries WHERE shop_id = $1 AND first_abandoned_at IS NOT NULL AND arm IS NULL`,
      [staged],
    );
    expect(rows[0].n).toBe(0);
  });

  it('an installation from before the arms is converted by its migration: same rows as the projection', async () => {
    const snapshot = async () => ({
      recoveries: (await pool.query(`SELECT recovery_id, arm FROM read.recoveries ORDER BY recovery_id`)).rows,
      funnel: (
        await pool.query(
          `SELECT * FROM read.daily_funnel ORDER BY shop_id, day, segment, sequence_id, arm, step, channel`,
        )
      ).rows,
      lift: (await pool.query(`SELECT * FROM read.lift ORDER BY shop_id, segment, sequence_id`)).rows,
    });
    const projected = await snapshot();
    // Back to the state before the migration: no arm column, the funnel's arms treated/holdout.
    await pool.query(`ALTER TABLE read.recoveries DROP COLUMN arm CASCADE`);
    await pool.query(`DELETE FROM read.daily_funnel WHERE arm <> 'holdout'`);
    await pool.query(`DELETE FROM read_model_migrations WHERE name = 'LiftArms1767225600003'`);
    const source = readModelsDataSource(db.url);
    await source.initialize();
    try {
      await source.query(`CREATE VIEW read.lift_inputs AS SELECT 1 AS x`);
      await source.query(`CREATE VIEW read.lift_arms AS SELECT 1 AS x`);
      await source.query(`CREATE VIEW read.lift AS SELECT 1 AS x`);
      expect((await source.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual([
        'LiftArms1767225600003',
      ]);
    } finally {
      await source.destroy();
    }
    expect(await snapshot()).toEqual(projected);
  });
});
