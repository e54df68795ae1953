import { createHash } from 'node:crypto';

/** Nest injection token of the {@link Runtime} value. */
export const RUNTIME = Symbol('RUNTIME');

/** Tokens are kept and compared only as SHA-256 hashes (R19). */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
