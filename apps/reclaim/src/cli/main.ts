/**
 * Reclaim's command line: `npm run cli -- history <shopId> <customerKey> [--json]` prints a
 * customer's recovery history from the event log (the same as
 * `GET /api/customers/<shopId>/<customerKey>/history`). Reads the same environment as the
 * appliance (DATABASE_URL, RECLAIM_MASTER_KEY, …); runs no background roles and no HTTP server.
 */
import 'reflect-metadata';
import type { CustomerHistory } from '@reclaim/application';
import { ConfigError, loadConfig } from '../config/app-config';
import { historyOf } from '../http/customers.controller';
import { createLogger } from '../logging';
import { createRuntime } from '../runtime/runtime';

const USAGE = `usage: npm run cli -- history <shopId> <customerKey> [--json]

  history   the customer's recovery history: every step sent, skipped or deferred, with its reason`;

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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error('reclaim cli failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
