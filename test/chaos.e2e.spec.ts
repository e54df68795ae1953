import { runChaos } from './chaos/chaos';

/**
 * R1 / R6 and the invariants, small and seeded: the real appliance as a child process, SIGKILLed
 * and restarted once, its PostgreSQL cut off once, while 120 signed deliveries (duplicates, out of
 * order, poison ones) are replayed. The full run is `npm run chaos -- --deliveries 5000 --kills 3`.
 */
describe('chaos (R1, R6): kill -9 and a database outage during a replay', () => {
  it('every invariant holds', async () => {
    const report = await runChaos({
      deliveries: 120,
      kills: 1,
      outages: 1,
      seed: 7,
      ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    });
    expect(report.kills).toBe(1);
    expect(report.outages).toBe(1);
    expect(report.duplicates).toBeGreaterThan(0);
    expect(report.poison).toBeGreaterThan(0);
    expect(report.messagesSent).toBeGreaterThan(0);
    expect(report.messagesDelivered).toBeGreaterThan(0);
    expect(report.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(report.invariants.length).toBeGreaterThanOrEqual(10);
  }, 240_000);
});
