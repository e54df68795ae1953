import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasterKeyError, loadMasterKey } from './master-key';

describe('loadMasterKey', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reclaim-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts 32 bytes as base64 or hex from RECLAIM_MASTER_KEY', async () => {
    const key = randomBytes(32);
    for (const text of [
      key.toString('base64'),
      key.toString('hex'),
      key.toString('base64url'),
      ` ${key.toString('hex')}\n`,
    ]) {
      const loaded = await loadMasterKey({ env: { RECLAIM_MASTER_KEY: text }, dataDir: dir });
      expect(loaded).toEqual({ key, previous: [], generated: false, source: 'env' });
    }
  });

  it('refuses a key of the wrong length or encoding without echoing it', async () => {
    const short = randomBytes(16).toString('base64');
    await expect(loadMasterKey({ env: { RECLAIM_MASTER_KEY: short }, dataDir: dir })).rejects.toThrow(MasterKeyError);
    await expect(loadMasterKey({ env: { RECLAIM_MASTER_KEY: short }, dataDir: dir })).rejects.toThrow('16 bytes');
    const err = await loadMasterKey({ env: { RECLAIM_MASTER_KEY: 'not a key!' }, dataDir: dir }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(MasterKeyError);
    expect((err as Error).message).not.toContain('not a key');
  });

  it('generates a key file with mode 0600 when unset, then reuses it', async () => {
    const dataDir = join(dir, 'data');
    const first = await loadMasterKey({ env: {}, dataDir });
    expect(first).toMatchObject({ generated: true, source: 'file', path: join(dataDir, 'master.key') });
    expect(first.key).toHaveLength(32);
    expect((await stat(join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600);
    const second = await loadMasterKey({ env: { RECLAIM_MASTER_KEY: '' }, dataDir });
    expect(second).toEqual({ key: first.key, previous: [], generated: false, source: 'file', path: first.path });
    expect((await readFile(join(dataDir, 'master.key'), 'utf8')).trim()).toBe(first.key.toString('base64'));
  });

  it('two concurrent first starts agree on one key', async () => {
    const [a, b] = await Promise.all([
      loadMasterKey({ env: {}, dataDir: dir }),
      loadMasterKey({ env: {}, dataDir: dir }),
    ]);
    expect(a.key.equals(b.key)).toBe(true);
    expect([a.generated, b.generated].filter(Boolean)).toHaveLength(1);
  });

  it('refuses a corrupt key file', async () => {
    await writeFile(join(dir, 'master.key'), 'abc');
    await expect(loadMasterKey({ env: {}, dataDir: dir })).rejects.toThrow(MasterKeyError);
  });

  it('reads previous master keys from OLD_MASTER_KEYS and from further lines of the key file', async () => {
    const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const fromEnv = await loadMasterKey({
      env: {
        RECLAIM_MASTER_KEY: a.toString('base64'),
        OLD_MASTER_KEYS: ` ${b.toString('hex')} , ${c.toString('base64')}`,
      },
      dataDir: dir,
    });
    expect(fromEnv.previous.map((k) => k.toString('hex'))).toEqual([b.toString('hex'), c.toString('hex')]);
    await writeFile(join(dir, 'master.key'), `${a.toString('base64')}\n${b.toString('base64')}\n`);
    const fromFile = await loadMasterKey({ env: {}, dataDir: dir });
    expect(fromFile.key.equals(a)).toBe(true);
    expect(fromFile.previous.map((k) => k.toString('hex'))).toEqual([b.toString('hex')]);
    await expect(
      loadMasterKey({
        env: { RECLAIM_MASTER_KEY: a.toString('base64'), OLD_MASTER_KEYS: 'short' },
        dataDir: dir,
      }),
    ).rejects.toThrow('OLD_MASTER_KEYS');
  });
});
