import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../../database/src/embedded-postgres';

/** Tests use DATABASE_URL when set, otherwise an embedded PostgreSQL started once for the run. */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    console.log(`\n[tests] using DATABASE_URL server`);
    return;
  }
  const started = Date.now();
  const handle = await startEmbeddedPostgres({
    dataDir: join(tmpdir(), `reclaim-test-pg-${process.pid}`),
    persistent: false,
    fast: true,
    port: 55432,
  });
  process.env.DATABASE_URL = handle.url;
  (globalThis as Record<string, unknown>).__RECLAIM_EMBEDDED_PG__ = handle;
  console.log(`\n[tests] embedded PostgreSQL on port ${handle.port} (${Date.now() - started} ms)`);
}
