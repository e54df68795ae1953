import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MasterKeys } from './master-keyring';

export const MASTER_KEY_ENV = 'RECLAIM_MASTER_KEY';
export const PREVIOUS_MASTER_KEYS_ENV = 'OLD_MASTER_KEYS';
export const MASTER_KEY_FILE = 'master.key';

export interface LoadedMasterKey {
  readonly key: Buffer;
  /**
   * Master keys still accepted while a rotation re-wraps stored keys: `OLD_MASTER_KEYS`
   * (comma-separated), or the further lines of the key file.
   */
  readonly previous: readonly Buffer[];
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

function previousFromEnv(env: Readonly<Record<string, string | undefined>>): Buffer[] {
  const text = env[PREVIOUS_MASTER_KEYS_ENV] ?? '';
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t, i) => decodeMasterKey(t, `${PREVIOUS_MASTER_KEYS_ENV} (key ${i + 1})`));
}

/**
 * `RECLAIM_MASTER_KEY` when set; otherwise `<dataDir>/master.key`, generated (mode 0600) when
 * missing. Two processes starting together agree on one key: the file appears atomically and
 * the loser reads the winner's key. The key file's first line is the current key; further lines
 * are previous keys (written there by `keys rotate-master` while it re-wraps).
 */
export async function loadMasterKey(options: {
  readonly env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>;
  readonly dataDir: string;
}): Promise<LoadedMasterKey> {
  const fromEnv = options.env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return {
      key: decodeMasterKey(fromEnv, MASTER_KEY_ENV),
      previous: previousFromEnv(options.env),
      generated: false,
      source: 'env',
    };
  }
  const path = join(options.dataDir, MASTER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) {
    return {
      key: existing.current,
      previous: [...(existing.previous ?? []), ...previousFromEnv(options.env)],
      generated: false,
      source: 'file',
      path,
    };
  }
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
      if (raced) return { key: raced.current, previous: raced.previous ?? [], generated: false, source: 'file', path };
    }
    throw e;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return { key, previous: [], generated: true, source: 'file', path };
}

/** Parses a key file: the current key on the first line, previous keys on the next ones. */
export function parseKeyFile(text: string, origin: string): MasterKeys {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new MasterKeyError(`${origin} is empty`);
  const [current, ...previous] = lines.map((l, i) =>
    decodeMasterKey(l, i === 0 ? origin : `${origin} (line ${i + 1})`),
  );
  return { current: current as Buffer, previous };
}

async function readKeyFile(path: string): Promise<MasterKeys | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  return parseKeyFile(text, path);
}

/** Re-reads a key file synchronously (a running process meeting a key it does not know yet). */
export function readKeyFileSync(path: string): MasterKeys | undefined {
  try {
    return parseKeyFile(readFileSync(path, 'utf8'), path);
  } catch {
    return undefined;
  }
}

/** Replaces a key file atomically (write a private temporary file, then rename it over). */
export async function writeKeyFile(path: string, keys: MasterKeys): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const text = [keys.current, ...(keys.previous ?? [])].map((k) => k.toString('base64')).join('\n');
  await writeFile(temp, `${text}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}
