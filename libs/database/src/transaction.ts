import type { Pool, PoolClient } from 'pg';

/**
 * Runs `work` in one transaction on a pooled connection: COMMIT when it resolves, ROLLBACK when it
 * throws. A connection that rolled back cleanly goes back to the pool; one whose ROLLBACK failed
 * too (a broken socket) is destroyed rather than handed to the next caller.
 */
export async function inTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  let result: T;
  try {
    await tx.query('BEGIN');
    result = await work(tx);
    await tx.query('COMMIT');
  } catch (err) {
    const healthy = await tx.query('ROLLBACK').then(
      () => true,
      () => false,
    );
    tx.release(!healthy);
    throw err;
  }
  tx.release();
  return result;
}
