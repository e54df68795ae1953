/**
 * Reclaim's command line: `npm run cli -- history <shopId> <customerKey> [--json]` prints a
 * customer's recovery history from the event log (the same as
 * `GET /api/customers/<shopId>/<customerKey>/history`). Reads the same environment as the
 * appliance (DATABASE_URL, RECLAIM_MASTER_KEY, …); runs no background roles and no HTTP server.
 */
import 'reflect-metadata';
import { Presets, SingleBar } from 'cli-progress';
import type { CustomerHistory } from '@reclaim/application';
import { findProjection, READ_MODEL_PROJECTIONS, rebuildProjection } from '@reclaim/read-models';
import { ConfigError, loadConfig } from '../config/app-config';
import { historyOf } from '../http/customers.controller';
import { createLogger } from '../logging';
import { createRuntime } from '../runtime/runtime';

const USAGE = `usage: npm run cli -- history <shopId> <customerKey> [--json]
       npm run cli -- projections rebuild [name]

  history               the customer's recovery history: every step sent, skipped or deferred, with its reason
  projections rebuild   truncate a read model (${READ_MODEL_PROJECTIONS.map((p) => p.name).join(', ')}; all without a
                        name), reset its checkpoint and replay the event log, with a progress bar and an ETA`;

export function formatHistory(history: CustomerHistory): string {
  const lines = [`customer ${history.customerKey} in shop ${history.shopId}`];
  for (const r of history.recoveries) {
    const seq = r.sequence
      ? `${r.sequence.id} v${r.sequence.version} (catalogue v${r.sequence.catalogueVersion})`
      : '-';
    const segments = r.segmentation?.segments.join(', ') || '-';
    lines.push(
      `recovery ${r.recoveryId}: sequence ${seq}; segments ${segments}; mode ${r.mode?.kind ?? '-'}${r.holdout ? ' (holdout)' : ''}; ${r.endReason ? `ended ${r.endReason}` : 'open'}`,
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
  if (command !== 'history' || args.length !== 2) {
    console.error(USAGE);
    return 2;
  }
  const [shopId, customerKey] = args;
  let config;
  try {
    config = loadConfig({ ...process.env, ROLES: 'none', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
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
    const history = await historyOf(runtime, shopId, customerKey);
    console.log(json ? JSON.stringify(history, null, 2) : formatHistory(history));
    return 0;
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
  const config = loadConfig({ ...process.env, ROLES: 'none', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error('reclaim cli failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
