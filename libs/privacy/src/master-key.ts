import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MASTER_KEY_ENV = 'RECLAIM_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';

export interface LoadedMasterKey {
  readonly key: Buffer;
  /** True when no key existed and one was generated now: the caller should warn and tell the operator to back it up. */
  readonly generated: boolean;
  readonly source: 'env' | 'file';
  /** The key file, when the key came from (or was written to) one. */
  readonly path?: string;
}

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

/**
 * Decodes a 32-byte key given as 64 hex digits or as (standard or url-safe) base64. The error
 * never repeats the value, which is a secret.
 */
export function decodeMasterKey(text: string, origin: string): Buffer {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) key = Buffer.from(t, 'base64');
  if (!key) throw new MasterKeyError(`${origin} must be 32 bytes encoded as base64 or 64 hex digits (it is neither)`);
  if (key.length !== 32) {
    throw new MasterKeyError(
      `${origin} must be exactly 32 bytes encoded as base64 or 64 hex digits (it decodes to ${key.length} bytes)`,
    );
  }
  return key;
}

/**
 * `RECLAIM_MASTER_KEY` when set; otherwise `<dataDir>/master.key`, generated (mode 0600) when
 * missing. Two processes starting together agree on one key: the file appears atomically and
 * the loser reads the winner's key.
 */
export async function loadMasterKey(options: {
  readonly env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>;
  readonly dataDir: string;
}): Promise<LoadedMasterKey> {
  const fromEnv = options.env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return { key: decodeMasterKey(fromEnv, MASTER_KEY_ENV), generated: false, source: 'env' };
  }
  const path = join(options.dataDir, MASTER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) return { key: existing, generated: false, source: 'file', path };
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // Write a private temporary file, then link it into place: the link is atomic and fails if
  // another process got there first, so nobody ever reads a half-written key file.
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = await readKeyFile(path);
      if (raced) return { key: raced, generated: false, source: 'file', path };
    }
    throw e;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return { key, generated: true, source: 'file', path };
}

async function readKeyFile(path: string): Promise<Buffer | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return decodeMasterKey(text, path);
}
