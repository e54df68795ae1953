/**
 * `npm run cli` next to a running appliance on its embedded PostgreSQL: the CLI finds that
 * PostgreSQL through DATA_DIR (postmaster.pid) and uses it, instead of failing to start a second
 * one on the same data directory. The "running appliance" here is a child process that starts the
 * embedded PostgreSQL as `npm start` does and keeps it until its stdin closes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runningEmbeddedPostgresUrl } from '@reclaim/database';

const root = join(__dirname, '..');

describe('the CLI while the appliance runs on its embedded PostgreSQL', () => {
  let dataDir: string;
  let owner: ChildProcess | undefined;
  let pg: { url: string; port: number } | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'reclaim-cli-'));
    // As root the embedded PostgreSQL runs as the `postgres` user, which must reach the directory.
    await chmod(dataDir, 0o755);
    expect(await runningEmbeddedPostgresUrl(join(dataDir, 'postgres'))).toBeUndefined();
    const script = `require('@reclaim/database').startEmbeddedPostgres({ dataDir: process.argv[1], fast: true })
      .then((h) => { console.log(JSON.stringify({ url: h.url, port: h.port }));
        process.stdin.on('end', () => h.stop().then(() => process.exit(0))); process.stdin.resume(); },
        (e) => { console.error(e.message); process.exit(1); })`;
    owner = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        '-e',
        script,
        join(dataDir, 'postgres'),
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    pg = await new Promise((resolve, reject) => {
      owner?.stdout?.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as { url: string; port: number }));
      owner?.once('exit', (code) => reject(new Error(`the embedded PostgreSQL did not start (exit ${code})`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (owner && owner.exitCode === null) {
      const exited = new Promise((r) => owner?.once('exit', r));
      owner.stdin?.end();
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('finds the running embedded PostgreSQL of a data directory', async () => {
    expect(await runningEmbeddedPostgresUrl(join(dataDir, 'postgres'))).toBe(pg?.url);
  });

  it('looks a customer up by e-mail through that database (no second PostgreSQL) and says so', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
    delete env.DATABASE_URL;
    env.RECLAIM_MASTER_KEY = randomBytes(32).toString('hex');
    env.ADMIN_TOKEN = 'cli-test-admin-token';
    const r = spawnSync('npm', ['run', '--silent', 'cli', '--', 'history', 'no-such-shop', 'ada@example.com'], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).not.toMatch(/another PostgreSQL/);
    expect(r.stderr).toContain(`using the running appliance's embedded PostgreSQL (127.0.0.1:${pg?.port})`);
    expect(r.stderr).toContain('no shop no-such-shop');
    expect(r.status).toBe(1);
    expect(`${r.stdout}${r.stderr}`).not.toContain('ada@example.com');
  }, 120_000);

  it('says how in its help', () => {
    const r = spawnSync('npm', ['run', '--silent', 'cli', '--', 'help'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/history <shopId> <email\|customerKey>/);
    expect(r.stderr).toMatch(/while the appliance\s+runs \(npm start\), its embedded PostgreSQL under DATA_DIR/);
  });
});
