import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '@reclaim/database';

/** A throw-away database for one bench run: on DATABASE_URL's server, or an embedded PostgreSQL. */
export interface ScratchDatabase {
  /** Connection string of the new database. */
  readonly url: string;
  /** A connection to the server's maintenance database (settings, the final drop). */
  readonly admin: Client;
  /** Drops the database, ends the admin connection, stops and removes an embedded server. */
  drop(): Promise<void>;
}

/** `embeddedPort`: each bench its own, so two benches can run side by side without DATABASE_URL. */
export async function openScratchDatabase(embeddedPort: number): Promise<ScratchDatabase> {
  let serverUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let tempDir: string | undefined;
  if (!serverUrl) {
    tempDir = await mkdtemp(join(tmpdir(), 'reclaim-bench-'));
    const pg = await startEmbeddedPostgres({ dataDir: tempDir, persistent: false, port: embeddedPort });
    serverUrl = pg.url;
    stopEmbedded = () => pg.stop();
  }
  const dbName = `reclaim_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  return {
    url: url.toString(),
    admin,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
      await admin.end();
      if (stopEmbedded) await stopEmbedded();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    },
  };
}
