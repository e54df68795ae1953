import type { Pool } from 'pg';
import { type MasterKeyring, unwrapBytes, wrapBytes, wrappedWith } from './master-keyring';

const ROOT_INFO = 'reclaim/key-root/v1';
const IDENTITY = 'identity';
const aad = (name: string) => Buffer.from(`reclaim/key-root/v1\u0000${name}`, 'utf8');

/**
 * The identity root: the secret that customer keys (the per-shop peppers of `e-…`/`t-…`) and
 * message links (unsubscribe, click and open tokens) are derived from. It must not change when
 * the master key is rotated — customer keys would change and links already sent would break — so
 * it is fixed once, as the master key of the first start, and kept in `privacy.key_roots`
 * wrapped with the master key (re-wrapped by a rotation like every other stored key).
 */
export async function loadIdentityRoot(pool: Pool, ring: MasterKeyring): Promise<Buffer> {
  await pool.query(`
    CREATE SCHEMA IF NOT EXISTS privacy;
    CREATE TABLE IF NOT EXISTS privacy.key_roots (
      name text PRIMARY KEY,
      wrapped bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await pool.query('INSERT INTO privacy.key_roots (name, wrapped) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    IDENTITY,
    wrapBytes(ring, ROOT_INFO, ring.current.key, aad(IDENTITY)),
  ]);
  const { rows } = await pool.query<{ wrapped: Buffer }>('SELECT wrapped FROM privacy.key_roots WHERE name = $1', [
    IDENTITY,
  ]);
  return unwrapBytes(ring, ROOT_INFO, (rows[0] as { wrapped: Buffer }).wrapped, aad(IDENTITY));
}

/** Master-key rotation: re-wraps the key roots under the current master key. Returns how many were re-wrapped. */
export async function rewrapKeyRoots(pool: Pool, ring: MasterKeyring): Promise<number> {
  const { rows } = await pool.query<{ name: string; wrapped: Buffer }>('SELECT name, wrapped FROM privacy.key_roots');
  let n = 0;
  for (const row of rows) {
    if (wrappedWith(row.wrapped) === ring.current.id) continue;
    const plain = unwrapBytes(ring, ROOT_INFO, row.wrapped, aad(row.name));
    const r = await pool.query('UPDATE privacy.key_roots SET wrapped = $3 WHERE name = $1 AND wrapped = $2', [
      row.name,
      row.wrapped,
      wrapBytes(ring, ROOT_INFO, plain, aad(row.name)),
    ]);
    n += r.rowCount ?? 0;
  }
  return n;
}
