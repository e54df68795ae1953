import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { setOutboundPolicy } from '@reclaim/http';
import type { Logger } from 'pino';
import {
  ApiTokens,
  DatabaseClock,
  migrateRecoveryEngine,
  SecretBox,
  ShopConnections,
  ShopRegistry,
  type Clock,
} from '@reclaim/application';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@reclaim/database';
import {
  EventStoreDBEventStore,
  PostgresEventStore,
  ensureCheckpointTable,
  type EventStore,
} from '@reclaim/event-store';
import { PlatformConnections } from '@reclaim/platforms/connection';
import type { StoreConnectionPort } from '@reclaim/ports';
import { loadIdentityRoot, loadMasterKey, MasterKeyring, PersonalDataVault, readKeyFileSync } from '@reclaim/privacy';
import { SEND_JOURNAL_SQL } from '@reclaim/providers';
import { migrateReadModels } from '@reclaim/read-models';
import type { AppConfig } from '../config/app-config';
import { createRecoveryEngine, type EngineAdapters, type RecoveryEngine } from './engine';
import { hashToken } from './runtime.token';

export { RUNTIME } from './runtime.token';

/**
 * Everything the appliance holds open: the database pool, the event store, the vault for personal
 * data, the shop registry and the admin tokens (as hashes). Built once at start-up (and by tests),
 * then handed to Nest as a value.
 */
export interface Runtime {
  readonly config: AppConfig;
  readonly pool: Pool;
  readonly store: EventStore;
  readonly vault: PersonalDataVault;
  readonly shops: ShopRegistry;
  /** Shops connecting themselves: credential checks, webhook subscriptions, deletion. */
  readonly connections: ShopConnections;
  /** The master keys (current + previous during a rotation). */
  readonly masterKeys: MasterKeyring;
  /** The master key file, when the key is not given by `RECLAIM_MASTER_KEY`. */
  readonly masterKeyFile?: string;
  readonly tokens: { readonly adminHash: Buffer; readonly analystHash?: Buffer };
  /** Operator-managed admin/analyst tokens (hashed, revocable, optionally scoped to shops). */
  readonly apiTokens: ApiTokens;
  readonly databaseUrl: string;
  readonly embedded?: EmbeddedPostgresHandle;
  readonly clock: () => Date;
  /** The recovery engine's parts (timers, subscriptions handlers, effect runner, settings, links). */
  readonly engine: RecoveryEngine;
  readonly log: Logger;
  /** Called as soon as a stop signal arrives: connection losses from then on are expected. */
  markStopping(): void;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Default: one `DatabaseClock` (R8). Tests and the sandbox may inject a manual or accelerated clock. */
  readonly clock?: Clock | (() => Date);
  readonly log: Logger;
  /** Providers to use instead of the defaults (outbox email, no SMS, no tickets, no store API). */
  readonly adapters?: EngineAdapters;
  /** The store side of connecting shops (default: the three platforms' APIs). */
  readonly stores?: StoreConnectionPort;
}

export async function createRuntime(config: AppConfig, options: RuntimeOptions): Promise<Runtime> {
  const { log } = options;
  // R22: every outside HTTP call of this process is checked against this policy.
  setOutboundPolicy({ allowPrivate: config.ALLOW_PRIVATE_STORE_URLS === 'true' });
  const dataDir = resolve(config.DATA_DIR);
  let embedded: EmbeddedPostgresHandle | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    log.info({ dataDir }, 'no DATABASE_URL: starting the embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), persistent: true });
    databaseUrl = embedded.url;
    log.info({ port: embedded.port }, 'embedded PostgreSQL is up');
  }

  const pool = new Pool({ connectionString: databaseUrl, max: 24, application_name: 'reclaim' });
  // The ingest hot path's own connections: the event store's group-commit writer (two batches in
  // flight at most) and the vault's batched key look-ups and creations. With every role on, the
  // engine's transactions and the subscriptions' reads hold the main pool; a webhook must not
  // wait behind them for a connection (docs/rfc/0002-webhook-hot-path.md).
  const hotPool = new Pool({ connectionString: databaseUrl, max: 6, application_name: 'reclaim-ingest' });
  // During shutdown the embedded PostgreSQL may stop before idle connections close: expected, not an error.
  let stopping = false;
  pool.on('error', (err) =>
    stopping
      ? log.debug({ err: err.message }, 'idle database connection closed during shutdown')
      : log.error({ err: err.message }, 'idle database connection failed'),
  );
  // A connection lost while checked out (a transaction waiting on other work, a held advisory lock)
  // emits 'error' on its client: the queries in flight fail and are retried by their callers, and
  // the process must not crash on it (R6: the appliance recovers by itself from a database outage).
  for (const p of [pool, hotPool]) {
    p.on('connect', (client) =>
      client.on('error', (err) =>
        stopping ? undefined : log.warn({ err: err.message }, 'database connection lost while in use'),
      ),
    );
  }
  hotPool.on('error', (err) =>
    stopping
      ? log.debug({ err: err.message }, 'idle database connection closed during shutdown')
      : log.error({ err: err.message }, 'idle database connection failed'),
  );
  try {
    const master = await loadMasterKey({
      env: {
        RECLAIM_MASTER_KEY: config.RECLAIM_MASTER_KEY,
        OLD_MASTER_KEYS: config.OLD_MASTER_KEYS,
      },
      dataDir,
    }).catch((err: unknown) => {
      throw config.RECLAIM_MASTER_KEY === undefined ? notGenerated('RECLAIM_MASTER_KEY', dataDir, err) : err;
    });
    if (master.generated) {
      log.warn(
        { path: master.path },
        'RECLAIM_MASTER_KEY is not set: generated a master key into the data directory; back it up',
      );
    }
    await PostgresEventStore.migrate(pool);
    await ensureCheckpointTable(pool);
    await PersonalDataVault.migrate(pool);
    await ShopRegistry.migrate(pool);
    await ApiTokens.migrate(pool);
    await migrateRecoveryEngine(pool, { adapterTables: [SEND_JOURNAL_SQL] });
    // Read models (schema `read`, TypeORM migrations) and the reclaim_analyst role (R20).
    await migrateReadModels(pool, databaseUrl, { analystPassword: config.ANALYST_DB_PASSWORD });

    const store: EventStore =
      config.EVENT_STORE === 'eventstoredb'
        ? new EventStoreDBEventStore({ connectionString: config.EVENTSTORE_URL })
        : new PostgresEventStore({ pool, appendPool: hotPool });
    // With a key file, a rotation run elsewhere (`keys rotate-master`) writes the new key there
    // first: a key this process does not know yet is looked up in the file again.
    const keyFile = master.path;
    const masterKeys = new MasterKeyring(
      { current: master.key, previous: master.previous },
      keyFile === undefined
        ? undefined
        : () => {
            const fromFile = readKeyFileSync(keyFile);
            return (
              fromFile && { current: fromFile.current, previous: [...(fromFile.previous ?? []), ...master.previous] }
            );
          },
    );
    // Customer keys and message links derive from the identity root, which a rotation does not change.
    const identityRoot = await loadIdentityRoot(pool, masterKeys);
    const vault = new PersonalDataVault(hotPool, masterKeys, {
      identityRoot,
      cacheSize: config.CACHE_CUSTOMER_KEYS,
      // What is sealed is stored by the PostgreSQL event store's synchronous commits in this same
      // database, which flush a new key's WAL with theirs: the key needs no flush of its own.
      deferKeyFlush: store instanceof PostgresEventStore,
    });
    const clock: Clock =
      options.clock === undefined
        ? new DatabaseClock(pool)
        : typeof options.clock === 'function'
          ? { now: options.clock }
          : options.clock;
    await clock.refresh?.();
    const now = () => clock.now();
    const shops = new ShopRegistry(pool, new SecretBox(masterKeys), now, config.CACHE_SHOPS);
    const connections = new ShopConnections({
      shops,
      stores: options.stores ?? new PlatformConnections(),
      storeCalls: config.STORE_ADAPTERS === 'on',
      publicUrl: config.publicUrl,
      store,
      vault,
      now,
    });
    const tokens = await resolveTokens(config, dataDir, log);
    if (!config.publicUrl.startsWith('https://')) {
      log.warn(
        { publicUrl: config.publicUrl },
        'PUBLIC_URL is not https: mailbox providers ignore a plain-http List-Unsubscribe (R25); set PUBLIC_URL to the https address of this appliance',
      );
    }
    const engine = createRecoveryEngine({
      config,
      pool,
      store,
      vault,
      shops,
      masterKey: identityRoot,
      clock,
      log,
      ...(options.adapters !== undefined ? { adapters: options.adapters } : {}),
    });

    return {
      config,
      pool,
      store,
      vault,
      shops,
      connections,
      masterKeys,
      ...(keyFile !== undefined ? { masterKeyFile: keyFile } : {}),
      tokens,
      apiTokens: new ApiTokens(pool, config.CACHE_API_TOKENS),
      databaseUrl,
      embedded,
      clock: now,
      engine,
      log,
      markStopping() {
        stopping = true;
      },
      async close() {
        stopping = true;
        await engine.close().catch(() => undefined);
        await store.close().catch(() => undefined);
        await pool.end().catch(() => undefined);
        await hotPool.end().catch(() => undefined);
        if (embedded) await embedded.stop();
      },
    };
  } catch (err) {
    await pool.end().catch(() => undefined);
    await hotPool.end().catch(() => undefined);
    if (embedded) await embedded.stop().catch(() => undefined);
    throw err;
  }
}

/** ADMIN_TOKEN from the environment, or one generated into the data directory (shown by path, never logged). */
async function resolveTokens(config: AppConfig, dataDir: string, log: Logger): Promise<Runtime['tokens']> {
  let admin = config.ADMIN_TOKEN;
  if (!admin) {
    const file = join(dataDir, 'admin-token');
    if (existsSync(file)) {
      admin = (await readFile(file, 'utf8')).trim();
    } else {
      admin = randomBytes(24).toString('base64url');
      try {
        await mkdir(dataDir, { recursive: true });
        await writeFile(file, `${admin}\n`, { mode: 0o600 });
      } catch (err) {
        throw notGenerated('ADMIN_TOKEN', dataDir, err);
      }
    }
    log.warn({ path: file }, 'ADMIN_TOKEN is not set: the admin API token is in this file');
  }
  return {
    adminHash: hashToken(admin),
    analystHash: config.ANALYST_TOKEN ? hashToken(config.ANALYST_TOKEN) : undefined,
  };
}

/** A secret that is neither configured nor can be generated (a read-only container): say what to set. */
function notGenerated(name: string, dataDir: string, cause: unknown): Error {
  return new Error(
    `${name} is not set and cannot be generated into ${dataDir} (${cause instanceof Error ? cause.message : String(cause)}): set ${name} or ${name}_FILE`,
  );
}
