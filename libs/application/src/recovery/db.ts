import type { Pool, PoolClient } from 'pg';

/** A pool or a client inside a transaction: the engine's reads run in the subscription's transaction when given one. */
export type Queryable = Pick<PoolClient, 'query'> | Pick<Pool, 'query'>;

/** One transaction on a pooled connection (the shared helper). */
export { inTransaction } from '@reclaim/database/transaction';

export const iso = (d: Date | string): string => (typeof d === 'string' ? new Date(d).toISOString() : d.toISOString());
