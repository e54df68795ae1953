import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { ShopRegistry } from '@reclaim/application';
import {
  MASTER_KEY_RELOAD_MS,
  type MasterKeyring,
  type PersonalDataVault,
  readKeyFileSync,
  rewrapKeyRoots,
  writeKeyFile,
} from '@reclaim/privacy';

export interface RotateMasterDeps {
  readonly pool: Pool;
  readonly vault: PersonalDataVault;
  readonly shops: ShopRegistry;
  readonly ring: MasterKeyring;
  /** The key file when the master key lives in one (no `RECLAIM_MASTER_KEY`). */
  readonly keyFile?: string;
}

export interface RotateMasterOptions {
  /** The new master key (file mode); generated when absent. Ignored when a rotation is already under way. */
  readonly newKey?: Buffer;
  readonly batchSize?: number;
  /** How long to wait after writing the new key for running instances to wrap with it. Default: their reload interval + 5 s. */
  readonly graceMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onStage?: (message: string) => void;
  readonly onProgress?: (done: number, remaining: number) => void;
  /** Stops between batches (the test's interruption; Ctrl-C in the CLI). */
  readonly signal?: AbortSignal;
}

export type RotateMasterResult =
  | { readonly status: 'done'; readonly subjectKeys: number; readonly shops: number; readonly roots: number }
  | { readonly status: 'interrupted'; readonly remaining: number };

/**
 * Online master-key rotation (`npm run cli -- keys rotate-master`): re-wraps every stored key
 * (subject keys, shop secrets, key roots) under the current master key, while the appliance
 * keeps running and accepts both keys.
 *
 * With a key file: the first run writes a new key first in the file (the old one on the next
 * line, still accepted), waits until running instances wrap with it, re-wraps in batches, and
 * finally leaves only the new key in the file. With `RECLAIM_MASTER_KEY`: the operator first sets
 * the new key there and the old one in `OLD_MASTER_KEYS` on every instance; this
 * re-wraps, and then the previous key can be removed.
 *
 * Every batch is one transaction, so an interruption (Ctrl-C, kill -9, a lost connection) leaves
 * each key either re-wrapped or untouched, readable with either master key; running it again
 * resumes with what is left.
 */
export async function rotateMasterKey(
  deps: RotateMasterDeps,
  options: RotateMasterOptions = {},
): Promise<RotateMasterResult> {
  const say = options.onStage ?? (() => undefined);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const { keyFile, ring } = deps;
  if (keyFile !== undefined) {
    const file = readKeyFileSync(keyFile);
    if (!file) throw new Error(`cannot read the master key file ${keyFile}`);
    if ((file.previous ?? []).length === 0) {
      const next = options.newKey ?? randomBytes(32);
      await writeKeyFile(keyFile, { current: next, previous: [file.current] });
      ring.refresh();
      const grace = options.graceMs ?? MASTER_KEY_RELOAD_MS + 5_000;
      say(
        `wrote a new master key first in ${keyFile} (the old one stays accepted); waiting ${Math.round(grace / 1000)} s for running instances to use it`,
      );
      await sleep(grace);
    } else {
      ring.refresh();
      say(`resuming the rotation to master key ${ring.current.id}`);
    }
  } else if (ring.all.length < 2) {
    say('no previous master key configured (OLD_MASTER_KEYS): re-wrapping whatever is not under the current key');
  }
  let subjectKeys = 0;
  for (;;) {
    if (options.signal?.aborted) return { status: 'interrupted', remaining: await deps.vault.countNotCurrent() };
    const batch = await deps.vault.rewrapBatch(options.batchSize ?? 500);
    subjectKeys += batch.rewrapped;
    options.onProgress?.(subjectKeys, batch.remaining);
    if (batch.remaining === 0) break;
    if (batch.rewrapped === 0) await sleep(200); // the rest is locked by another run: wait for it
  }
  const shops = await deps.shops.rewrapSecrets();
  const roots = await rewrapKeyRoots(deps.pool, ring);
  const left = (await deps.vault.countNotCurrent()) + (await deps.shops.rewrapSecrets()).remaining;
  if (left > 0) return { status: 'interrupted', remaining: left };
  if (keyFile !== undefined) {
    await writeKeyFile(keyFile, { current: ring.current.key });
    say(`done: ${keyFile} now holds only the new master key (back it up)`);
  } else {
    say('done: every stored key is wrapped with RECLAIM_MASTER_KEY; remove OLD_MASTER_KEYS and restart');
  }
  return { status: 'done', subjectKeys, shops: shops.rewrapped, roots };
}
