import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { MasterKeyring, UnknownMasterKeyError } from '@reclaim/privacy';

/**
 * Encrypts operator secrets (webhook secrets, store API tokens) at rest with AES-256-GCM under a
 * key derived from the master key. The purpose string is bound as associated data, so a value
 * sealed for one column cannot be replayed into another.
 *
 * Format `v2.<master key id>.<iv>.<ct>.<tag>` names the master key (see `MasterKeyring`), so a
 * master-key rotation can tell what is left to re-wrap; `v1.<iv>.<ct>.<tag>` (no id) is still
 * read, with every configured master key.
 */
export class SecretBox {
  private readonly ring: MasterKeyring;

  constructor(
    masterKey: Buffer | MasterKeyring,
    private readonly context = 'reclaim/operator-secrets/v1',
  ) {
    if (Buffer.isBuffer(masterKey) && masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.ring = masterKey instanceof MasterKeyring ? masterKey : new MasterKeyring(masterKey);
  }

  seal(plain: string, purpose: string): string {
    const entry = this.ring.current;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.ring.derive(entry, this.context), iv);
    cipher.setAAD(Buffer.from(purpose));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v2', entry.id, iv.toString('base64'), ct.toString('base64'), cipher.getAuthTag().toString('base64')].join(
      '.',
    );
  }

  open(sealed: string, purpose: string): string {
    const parts = sealed.split('.');
    if (parts[0] === 'v2') {
      const [, id, iv, ct, tag] = parts;
      if (!id || !iv || ct === undefined || !tag) throw new Error('unrecognised sealed secret');
      const entry = this.ring.find(id);
      if (!entry) throw new UnknownMasterKeyError(id);
      return decrypt(this.ring.derive(entry, this.context), iv, ct, tag, purpose);
    }
    const [v, iv, ct, tag] = parts;
    if (v !== 'v1' || !iv || ct === undefined || !tag) throw new Error('unrecognised sealed secret');
    let last: unknown;
    for (const entry of this.ring.all) {
      try {
        return decrypt(this.ring.derive(entry, this.context), iv, ct, tag, purpose);
      } catch (e) {
        last = e;
      }
    }
    throw last instanceof Error ? last : new Error('sealed secret could not be opened');
  }

  /** True when the value is sealed with the current master key (nothing left to re-wrap). */
  isCurrent(sealed: string): boolean {
    const parts = sealed.split('.');
    return parts[0] === 'v2' && parts[1] === this.ring.current.id;
  }
}

function decrypt(key: Buffer, iv: string, ct: string, tag: string, purpose: string): string {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAAD(Buffer.from(purpose));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
}
