import type { Pool, PoolClient } from 'pg';

/** A pool or a client inside a transaction: the engine's reads run in the subscription's transaction when given one. */
export type Queryable = Pick<PoolClient, 'query'> | Pick<Pool, 'query'>;

export async function inTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const tx = await pool.connect();
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    tx.release();
    return result;
  } catch (err) {
    await tx.query('ROLLBACK').catch(() => undefined);
    tx.release(true);
    throw err;
  }
}

export const iso = (d: Date | string): string => (typeof d === 'string' ? new Date(d).toISOString() : d.toISOString());
