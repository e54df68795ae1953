/**
 * Reclaim's command line: `npm run cli -- history <shopId> <email|customerKey> [--json]` prints a
 * customer's recovery history from the event log (the same as `POST /api/customers/<shopId>/history`
 * and `GET /api/customers/<shopId>/<customerKey>/history`). Reads the same environment as the
 * appliance (DATABASE_URL, DATA_DIR, RECLAIM_MASTER_KEY, …); runs no background roles and no HTTP
 * server. While the appliance runs on its embedded PostgreSQL, the CLI connects to that database.
 */
import 'reflect-metadata';
import { Presets, SingleBar } from 'cli-progress';
import { readFile } from 'node:fs/promises';
import { UnknownShopInScopeError, type CustomerHistory } from '@reclaim/application';
import { parseKeyFile } from '@reclaim/privacy';
import { findProjection, READ_MODEL_PROJECTIONS, rebuildProjection } from '@reclaim/read-models';
import { join } from 'node:path';
import { runningEmbeddedPostgresUrl } from '@reclaim/database';
import { ConfigError, loadConfig, type AppConfig } from '../config/app-config';
import { customerKeyOfEmail, exportOf, historyOf } from '../http/customers.controller';
import { isUuid } from '../http/ids';
import { view as tokenView } from '../http/tokens.controller';
import { modelEvaluate } from './model-evaluate';
import { modelExport, modelTrain } from './model-train';
import { policyBacktest } from './policy-backtest';
import { rotateMasterKey } from './rotate-master';
import { createLogger } from '../logging';
import { createRuntime } from '../runtime/runtime';

const USAGE = `usage: npm run cli -- history <shopId> <email|customerKey> [--json]
       npm run cli -- export <shopId> <email|customerKey>
       npm run cli -- projections rebuild [name]
       npm run cli -- keys rotate-master [--new-key-file <path>] [--batch <n>]
       npm run cli -- tokens create --name <label> --role admin|analyst [--shop <shopId>]... [--json]
       npm run cli -- tokens list [--json]
       npm run cli -- tokens revoke <tokenId>
       npm run cli -- model evaluate --csv <file> --label <column> [--folds 5] [--seed N]
       npm run cli -- model export --shop <shopId> [--out <file>] [--ids]
       npm run cli -- model train --shop <shopId>
       npm run cli -- policy backtest --shop <shopId> --from <date> --to <date> --policy <file>
                                      [--out-md policy-backtest.md] [--out-json policy-backtest.json]
                                      [--min-recoveries 100] [--min-ess 30] [--max-unsupported 0.05]

  history               the customer's recovery history: every step sent, skipped or deferred, with its reason;
                        by e-mail address (turned into the customer key, never stored or logged) or customer key
  export                everything held about the customer (a data request, R29) as JSON on standard output:
                        profile and carts with the contact details opened from the vault, recoveries, history
  projections rebuild   truncate a read model (${READ_MODEL_PROJECTIONS.map((p) => p.name).join(', ')}; all without a
                        name), reset its checkpoint and replay the event log, with a progress bar and an ETA
  keys rotate-master    re-wrap every customer key and shop secret under a new master key while the appliance
                        runs (both keys accepted until it finishes); interrupted, run it again to resume
  tokens                admin/analyst API tokens: optionally scoped to shops, stored as hashes, listed without
                        their secret (shown once at creation), revocable
  model evaluate        stratified k-fold cross-validation of the recovery score's trainer on any labelled CSV
                        (numeric, boolean, categorical columns; missing values allowed; label 0/1, true/false or
                        yes/no): AUC, Brier score, expected calibration error and a 10-bin calibration table
  model export          the shop's recovery-score training table from the event log as CSV (standard output
                        or --out): the features recorded at abandonment and \`purchased\` (an order within
                        SCORE_LABEL_WINDOW), recoveries whose window has closed; --ids adds recovery id, time, holdout
  model train           trains the shop's recovery-score model now (champion/challenger, RFC 0011) and prints
                        the outcome: promoted, rejected (why), skipped (outcomes still needed) or failed
  policy backtest       what a candidate policy (JSON: {"catalogue": {"sequences": [...]}, "settings": {...}}) would
                        have earned on the shop's recoveries abandoned in [from, to): inverse-propensity,
                        self-normalised and doubly-robust estimates of net revenue per recovery with 95 % intervals
                        against the policy that ran; Markdown and JSON reports; exit 3 when the log cannot tell
                        (too few recoveries, actions never logged, too little randomisation) (docs/policy-backtest.md)

  The database: DATABASE_URL when set (the same environment as the appliance); else, while the appliance
  runs (npm start), its embedded PostgreSQL under DATA_DIR (default ./data), found through its
  postmaster.pid, so it is safe to use next to a running appliance; else the CLI starts the embedded
  PostgreSQL itself. Over HTTP instead: POST /api/customers/<shopId>/history {"email": "…"} (admin token), and
  POST /api/customers/<shopId>/export for the export.`;

export function formatHistory(history: CustomerHistory): string {
  const lines = [`customer ${history.customerKey} in shop ${history.shopId}`];
  for (const r of history.recoveries) {
    const seq = r.sequence
      ? `${r.sequence.id} v${r.sequence.version} (catalogue v${r.sequence.catalogueVersion})`
      : '-';
    const segments = r.segmentation?.segments.join(', ') || '-';
    const score =
      r.score === undefined
        ? ''
        : 'score' in r.score
          ? `; score ${r.score.score.toFixed(3)} (model v${r.score.modelVersion} ${r.score.scope})`
          : `; no score (${r.score.outcomesNeeded} more outcomes needed)`;
    lines.push(
      `recovery ${r.recoveryId}: sequence ${seq}; segments ${segments}${score}; mode ${r.mode?.kind ?? '-'}${r.holdout ? ' (holdout)' : ''}; ${r.endReason ? `ended ${r.endReason}` : 'open'}`,
    );
  }
  for (const e of history.entries) {
    const parts = [
      e.at,
      e.kind.padEnd(16),
      e.step !== undefined ? `step ${e.step}` : '',
      e.channel ?? '',
      e.reason ? `reason=${e.reason}` : '',
      e.until ? `until=${e.until}` : '',
      e.discountCode ? `code=${e.discountCode}` : '',
      e.sent?.discount ? `discount=${e.sent.discount.percent}%` : '',
      e.sent?.discountWithheld ? `discount-withheld=${e.sent.discountWithheld}` : '',
      e.consentUsed ? `consent=${e.consentUsed.basis}:${e.consentUsed.source}` : '',
      e.channelsSkipped?.length ? `skipped=${e.channelsSkipped.map((c) => `${c.channel}:${c.reason}`).join(',')}` : '',
      e.cartId,
    ];
    lines.push(parts.filter((p) => p !== '').join('  '));
  }
  if (history.entries.length === 0) lines.push('(no recovery history)');
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  const args = rest.filter((a) => a !== '--json');
  if (command === 'projections') return projections(args);
  if (command === 'keys') return keys(args);
  if (command === 'tokens') return tokens(args, json);
  if (command === 'model' && args[0] === 'evaluate') {
    return modelEvaluate(args.slice(1), { out: console.log, err: console.error, progress: true });
  }
  if (command === 'model' && (args[0] === 'export' || args[0] === 'train')) return model(args);
  if (command === 'policy' && args[0] === 'backtest') return policy(args.slice(1));
  if ((command !== 'history' && command !== 'export') || args.length !== 2) {
    console.error(USAGE);
    return 2;
  }
  const [shopId, who] = args;
  let config;
  try {
    config = await cliConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const runtime = await createRuntime(config, { log: createLogger(config.LOG_LEVEL, process.stderr) });
  try {
    if (!(await runtime.shops.get(shopId))) {
      console.error(`no shop ${shopId}`);
      return 1;
    }
    const customerKey = who.includes('@') ? customerKeyOfEmail(runtime, shopId, who) : who;
    if (customerKey === undefined) {
      console.error('not an e-mail address');
      return 2;
    }
    if (command === 'export') {
      console.log(JSON.stringify(await exportOf(runtime, shopId, customerKey), null, 2));
      return 0;
    }
    const history = await historyOf(runtime, shopId, customerKey);
    console.log(json ? JSON.stringify(history, null, 2) : formatHistory(history));
    return 0;
  } finally {
    await runtime.close();
  }
}

/** The configuration for a command-line run, or `undefined` after printing why not. */
async function cliConfigOrSay(): Promise<AppConfig | undefined> {
  try {
    return await cliConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return undefined;
    }
    throw err;
  }
}

function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/** `model export|train --shop <id>`: the recovery score's training table, or a training now. */
async function model(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  const shopId = option(rest, '--shop');
  if (!isUuid(shopId)) {
    console.error(`model ${sub} needs --shop <shopId> (a UUID)`);
    return 2;
  }
  const config = await cliConfigOrSay();
  if (!config) return 2;
  const runtime = await createRuntime(config, { log: createLogger(config.LOG_LEVEL, process.stderr) });
  try {
    if (!(await runtime.shops.get(shopId))) {
      console.error(`no shop ${shopId}`);
      return 1;
    }
    const io = { out: (text: string) => process.stdout.write(text), err: console.error };
    if (sub === 'export') {
      const out = option(rest, '--out');
      return await modelExport(runtime.store, config.scoring, shopId, {
        ...(out !== undefined ? { out } : {}),
        ids: rest.includes('--ids'),
        now: runtime.clock(),
        io,
      });
    }
    return await modelTrain(runtime.engine.models.trainer, shopId, io);
  } finally {
    await runtime.close();
  }
}

/** `policy backtest …`: a candidate policy's estimated earnings on the shop's logged recoveries. */
async function policy(args: readonly string[]): Promise<number> {
  const shopId = option(args, '--shop');
  if (shopId !== undefined && !isUuid(shopId)) {
    console.error('policy backtest needs --shop <shopId> (a UUID)');
    return 2;
  }
  const config = await cliConfigOrSay();
  if (!config) return 2;
  const runtime = await createRuntime(config, { log: createLogger(config.LOG_LEVEL, process.stderr) });
  try {
    return await policyBacktest(
      args,
      {
        store: runtime.store,
        shopConfig: async (id) =>
          (await runtime.shops.get(id)) ? (await runtime.engine.settings.forShop(id)).config : undefined,
        now: runtime.clock(),
      },
      { out: console.log, err: console.error, progress: process.stderr.isTTY === true },
    );
  } finally {
    await runtime.close();
  }
}

/** `keys rotate-master`: online master-key rotation, resumable. */
async function keys(args: readonly string[]): Promise<number> {
  if (args[0] !== 'rotate-master') {
    console.error(USAGE);
    return 2;
  }
  const newKeyFile = option(args, '--new-key-file');
  const batch = Number(option(args, '--batch') ?? 500);
  if (!Number.isInteger(batch) || batch < 1) {
    console.error('--batch must be a positive whole number');
    return 2;
  }
  const config = await cliConfigOrSay();
  if (!config) return 2;
  const newKey = newKeyFile ? parseKeyFile(await readFile(newKeyFile, 'utf8'), newKeyFile).current : undefined;
  const runtime = await createRuntime(config, { log: createLogger(config.LOG_LEVEL, process.stderr) });
  const abort = new AbortController();
  const stop = () => {
    console.error('\nstopping after this batch; run the command again to resume');
    abort.abort();
  };
  process.once('SIGINT', stop);
  const bar = new SingleBar(
    { format: 'subject keys [{bar}] {value}/{total} | ETA {eta_formatted}' },
    Presets.shades_classic,
  );
  let started = false;
  try {
    const result = await rotateMasterKey(
      {
        pool: runtime.pool,
        vault: runtime.vault,
        shops: runtime.shops,
        ring: runtime.masterKeys,
        ...(runtime.masterKeyFile !== undefined ? { keyFile: runtime.masterKeyFile } : {}),
      },
      {
        ...(newKey ? { newKey } : {}),
        batchSize: batch,
        signal: abort.signal,
        onStage: (m) => console.error(m),
        onProgress: (done, remaining) => {
          if (!started) {
            bar.start(done + remaining, done);
            started = true;
          }
          bar.setTotal(done + remaining);
          bar.update(done);
        },
      },
    );
    if (started) bar.stop();
    if (result.status === 'interrupted') {
      console.error(
        `interrupted: ${result.remaining} keys still under the previous master key (both stay accepted); run again to resume`,
      );
      return 1;
    }
    console.log(
      `rotated: ${result.subjectKeys} subject keys, ${result.shops} shops, ${result.roots} key roots re-wrapped`,
    );
    return 0;
  } finally {
    process.removeListener('SIGINT', stop);
    await runtime.close();
  }
}

/** `tokens create|list|revoke`. */
async function tokens(args: readonly string[], json: boolean): Promise<number> {
  const [sub, ...rest] = args;
  const config = await cliConfigOrSay();
  if (!config) return 2;
  if (!['create', 'list', 'revoke'].includes(sub ?? '')) {
    console.error(USAGE);
    return 2;
  }
  const runtime = await createRuntime(config, { log: createLogger(config.LOG_LEVEL, process.stderr) });
  try {
    if (sub === 'list') {
      const list = (await runtime.apiTokens.list()).map(tokenView);
      if (json) console.log(JSON.stringify(list, null, 2));
      else
        for (const t of list)
          console.log(
            [
              t.id,
              t.role.padEnd(7),
              t.revokedAt ? `revoked ${t.revokedAt}` : 'active',
              t.shopIds ? `shops ${t.shopIds.join(',')}` : 'all shops',
              t.name,
            ].join('  '),
          );
      return 0;
    }
    if (sub === 'revoke') {
      const id = rest[0];
      if (!isUuid(id)) {
        console.error('tokens revoke needs a token id (a UUID)');
        return 2;
      }
      const revoked = await runtime.apiTokens.revoke(id);
      if (!revoked) {
        console.error(`no token ${id}`);
        return 1;
      }
      console.log(`revoked ${id}`);
      return 0;
    }
    const name = option(rest, '--name');
    const role = option(rest, '--role');
    const shopIds = rest.flatMap((a, i) =>
      a === '--shop' && rest[i + 1] !== undefined ? [rest[i + 1] as string] : [],
    );
    if (!name || (role !== 'admin' && role !== 'analyst') || shopIds.some((s) => !isUuid(s))) {
      console.error('tokens create needs --name <label>, --role admin|analyst and optionally --shop <shopId> (UUIDs)');
      return 2;
    }
    try {
      const { token, secret } = await runtime.apiTokens.create({
        name,
        role,
        shopIds: shopIds.length > 0 ? shopIds : null,
      });
      if (json) console.log(JSON.stringify({ ...tokenView(token), token: secret }, null, 2));
      else
        console.log(
          `token ${token.id} (${token.role}, ${token.shopIds ? `shops ${token.shopIds.join(',')}` : 'all shops'}):\n${secret}\nshown once: store it now`,
        );
      return 0;
    } catch (err) {
      if (err instanceof UnknownShopInScopeError) {
        console.error(err.message);
        return 1;
      }
      throw err;
    }
  } finally {
    await runtime.close();
  }
}

/** `projections rebuild [name]`: one read model, or all of them in turn. */
async function projections(args: readonly string[]): Promise<number> {
  const [sub, name, ...extra] = args;
  const chosen = name === undefined ? READ_MODEL_PROJECTIONS : [findProjection(name)];
  if (sub !== 'rebuild' || extra.length > 0 || chosen.some((p) => p === undefined)) {
    console.error(name !== undefined && !findProjection(name) ? `no projection ${name}\n${USAGE}` : USAGE);
    return 2;
  }
  const config = await cliConfig();
  const runtime = await createRuntime(config, { log: createLogger(config.LOG_LEVEL, process.stderr) });
  try {
    for (const p of chosen) {
      if (!p) continue;
      const bar = new SingleBar(
        { format: `${p.name.padEnd(10)} [{bar}] {percentage}% | {events} events | ETA {eta_formatted}`, etaBuffer: 50 },
        Presets.shades_classic,
      );
      let started = false;
      const result = await rebuildProjection(p, {
        store: runtime.store,
        pool: runtime.pool,
        vault: runtime.vault, // the customers projection opens sealed contacts to store masked forms
        onProgress: ({ events, position, head }) => {
          const total = Math.max(1, Number(head));
          if (!started) {
            bar.start(total, 0, { events: 0 });
            started = true;
          }
          bar.update(Math.min(total, Math.max(0, Number(position))), { events });
        },
      });
      if (started) {
        bar.update(bar.getTotal(), { events: result.events });
        bar.stop();
      }
      const rate = result.ms > 0 ? Math.round((result.events * 1000) / result.ms) : result.events;
      console.log(
        `${p.name}: rebuilt from ${result.events} events in ${(result.ms / 1000).toFixed(1)} s (${rate} events/s)`,
      );
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

/**
 * The appliance's configuration without background roles. Without DATABASE_URL, a running
 * appliance's embedded PostgreSQL (same DATA_DIR) is used rather than starting a second one.
 */
async function cliConfig(): Promise<AppConfig> {
  const env: NodeJS.ProcessEnv = { ...process.env, ROLES: 'none', LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' };
  if (!env.DATABASE_URL && !env.DATABASE_URL_FILE) {
    const running = await runningEmbeddedPostgresUrl(join(env.DATA_DIR || './data', 'postgres'));
    if (running) {
      console.error(`using the running appliance's embedded PostgreSQL (${new URL(running).host})`);
      env.DATABASE_URL = running;
    }
  }
  return loadConfig(env);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error('reclaim cli failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
