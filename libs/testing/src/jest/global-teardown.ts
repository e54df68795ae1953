import type { EmbeddedPostgresHandle } from '../../../database/src/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const handle = (globalThis as Record<string, unknown>).__RECLAIM_EMBEDDED_PG__ as EmbeddedPostgresHandle | undefined;
  if (handle) await handle.stop();
}
