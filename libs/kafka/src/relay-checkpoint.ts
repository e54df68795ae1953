import type { Pool, PoolClient } from 'pg';
import { parsePosition, positionToString, type GlobalPosition } from '@reclaim/event-store/event-store.port';

/**
 * The relay's checkpoint lives in its own table, written only after Kafka acknowledged a batch
 * (not in the projection-style "same transaction" as the work, because the work is a Kafka write).
 * A crash between the acknowledgement and this write re-sends at most that batch: at-least-once.
 */
export const RELAY_SCHEMA = 'kafka_relay';

export async function migrateRelaySchema(pool: Pool): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${RELAY_SCHEMA}`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${RELAY_SCHEMA}.checkpoints (
       name text PRIMARY KEY,
       position text NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
}

export async function loadRelayCheckpoint(db: Pool | PoolClient, name: string): Promise<GlobalPosition | undefined> {
  const { rows } = await db.query<{ position: string }>(
    `SELECT position FROM ${RELAY_SCHEMA}.checkpoints WHERE name = $1`,
    [name],
  );
  return rows.length === 0 ? undefined : parsePosition(rows[0].position);
}

export async function saveRelayCheckpoint(
  db: Pool | PoolClient,
  name: string,
  position: GlobalPosition,
): Promise<void> {
  await db.query(
    `INSERT INTO ${RELAY_SCHEMA}.checkpoints (name, position) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
    [name, positionToString(position)],
  );
}
