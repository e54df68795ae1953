import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** How often a keyring with a key file looks for a new current key (a rotation waits longer than this). */
export const MASTER_KEY_RELOAD_MS = 10_000;
/** Bytes of a master key's id inside a wrapped value. */
export const MASTER_KEY_ID_BYTES = 8;

/**
 * The id of a master key: the first 8 bytes of HMAC-SHA256(key, "reclaim/master-key-id/v1"), hex.
 * It names the key inside wrapped values (so a value says which master key it needs) without
 * revealing anything about the key.
 */
export function masterKeyId(key: Buffer): string {
  return createHmac('sha256', key)
    .update('reclaim/master-key-id/v1')
    .digest()
    .subarray(0, MASTER_KEY_ID_BYTES)
    .toString('hex');
}

export interface MasterKeyEntry {
  readonly id: string;
  readonly key: Buffer;
}

export interface MasterKeys {
  readonly current: Buffer;
  readonly previous?: readonly Buffer[];
}

/** A wrapped value names a master key that is not configured (neither current nor previous). */
export class UnknownMasterKeyError extends Error {
  constructor(readonly keyId: string) {
    super(
      `wrong master key: a stored key is wrapped with master key ${keyId}, which is not configured: set it as a previous master key (OLD_MASTER_KEYS or a further line of data/master.key) until "keys rotate-master" has finished`,
    );
    this.name = 'UnknownMasterKeyError';
  }
}

/**
 * The master keys this process knows: the current one (everything new is wrapped with it) and
 * previous ones still accepted while a rotation re-wraps stored keys (`keys rotate-master`).
 *
 * Wrapped values (subject keys, operator secrets, key roots) carry the id of the master key
 * that wrapped them, so opening one needs no trial decryption. When a value names a key this
 * process does not know, the keyring asks `reload` (rate-limited), and it re-reads the current key
 * every {@link MASTER_KEY_RELOAD_MS} — a rotation run in file mode writes the new key first in the
 * key file, waits until every running instance wraps with it, then re-wraps what is stored, so
 * instances pick the new key up without a restart.
 */
export class MasterKeyring {
  private entries: MasterKeyEntry[] = [];
  private readonly derived = new Map<string, Buffer>();
  private lastReload = 0;

  constructor(
    keys: MasterKeys | Buffer,
    private readonly reload?: () => MasterKeys | undefined,
    private readonly reloadEveryMs = 2_000,
    private readonly currentEveryMs = MASTER_KEY_RELOAD_MS,
  ) {
    this.set(Buffer.isBuffer(keys) ? { current: keys } : keys);
  }

  /**
   * The key new values are wrapped with. With a `reload`, re-read at most every `currentEveryMs`:
   * once a rotation has put a new key first in the key file, every running instance wraps with it
   * within that time (the rotation waits longer than that before it re-wraps).
   */
  get current(): MasterKeyEntry {
    this.reloadAtMostEvery(this.currentEveryMs);
    return this.entries[0] as MasterKeyEntry;
  }

  /** Current first, then the previous keys. */
  get all(): readonly MasterKeyEntry[] {
    return this.entries;
  }

  find(id: string): MasterKeyEntry | undefined {
    const hit = this.entries.find((e) => e.id === id);
    if (hit || !this.reload) return hit;
    this.reloadAtMostEvery(this.reloadEveryMs);
    return this.entries.find((e) => e.id === id);
  }

  /** Re-reads the keys now (a rotation that just wrote the key file). */
  refresh(): void {
    this.lastReload = 0;
    this.reloadAtMostEvery(0);
  }

  /** True when a key file (or another source) can change the keys while running. */
  get reloadable(): boolean {
    return this.reload !== undefined;
  }

  private reloadAtMostEvery(ms: number): void {
    if (!this.reload) return;
    const now = Date.now();
    if (ms > 0 && now - this.lastReload < ms) return;
    this.lastReload = now;
    try {
      const keys = this.reload();
      if (keys) this.set(keys);
    } catch {
      // Keep the keys we have: a half-written or unreadable file must not take them away.
    }
  }

  /** HKDF-SHA256 subkey of one master key for one purpose (memoised). */
  derive(entry: MasterKeyEntry, info: string): Buffer {
    const k = `${entry.id}\u0000${info}`;
    let d = this.derived.get(k);
    if (!d) {
      d = Buffer.from(hkdfSync('sha256', entry.key, Buffer.alloc(0), info, KEY_BYTES));
      this.derived.set(k, d);
    }
    return d;
  }

  private set(keys: MasterKeys): void {
    const list = [keys.current, ...(keys.previous ?? [])];
    for (const k of list) {
      if (!Buffer.isBuffer(k) || k.length !== KEY_BYTES) throw new RangeError('A master key must be exactly 32 bytes');
    }
    const seen = new Set<string>();
    this.entries = [];
    for (const key of list) {
      const id = masterKeyId(key);
      if (seen.has(id)) continue;
      seen.add(id);
      this.entries.push({ id, key: Buffer.from(key) });
    }
  }
}

/** Version byte of a wrapped value that names its master key. Version 1 (no id) is read, never written. */
export const WRAP_V1 = 1;
export const WRAP_V2 = 2;

/**
 * Wraps bytes with AES-256-GCM under a subkey (`info`) of the current master key:
 * `[2][master key id, 8 bytes][iv 12][tag 16][ciphertext]`.
 */
export function wrapBytes(ring: MasterKeyring, info: string, plain: Buffer, aad: Buffer): Buffer {
  const entry = ring.current;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ring.derive(entry, info), iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.from([WRAP_V2]), Buffer.from(entry.id, 'hex'), iv, cipher.getAuthTag(), ct]);
}

/** The id of the master key a wrapped value needs; undefined for the version-1 layout (any configured key may fit). */
export function wrappedWith(wrapped: Buffer): string | undefined {
  if (wrapped[0] !== WRAP_V2 || wrapped.length < 1 + MASTER_KEY_ID_BYTES) return undefined;
  return wrapped.subarray(1, 1 + MASTER_KEY_ID_BYTES).toString('hex');
}

export class UnwrapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnwrapError';
  }
}

/**
 * Opens a value from {@link wrapBytes}, or the older `[1][iv][tag][ct]` layout (tried with every
 * configured master key, `legacyAad` as additional data). Throws {@link UnknownMasterKeyError}
 * when the value names a key that is not configured, {@link UnwrapError} when it does not
 * authenticate.
 */
export function unwrapBytes(
  ring: MasterKeyring,
  info: string,
  wrapped: Buffer,
  aad: Buffer,
  legacyAad: Buffer = aad,
): Buffer {
  if (wrapped[0] === WRAP_V2) {
    const id = wrappedWith(wrapped) as string;
    const entry = ring.find(id);
    if (!entry) throw new UnknownMasterKeyError(id);
    const at = 1 + MASTER_KEY_ID_BYTES;
    const opened = tryOpen(ring.derive(entry, info), wrapped.subarray(at), aad);
    if (!opened) throw new UnwrapError('a wrapped key failed authentication');
    return opened;
  }
  if (wrapped[0] === WRAP_V1) {
    for (const entry of ring.all) {
      const opened = tryOpen(ring.derive(entry, info), wrapped.subarray(1), legacyAad);
      if (opened) return opened;
    }
    throw new UnwrapError('a wrapped key could not be opened with any configured master key');
  }
  throw new UnwrapError('unsupported wrapped key format');
}

function tryOpen(key: Buffer, body: Buffer, aad: Buffer): Buffer | undefined {
  if (body.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(body.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
