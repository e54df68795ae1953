/**
 * `npm run demo`: the appliance (embedded PostgreSQL under ./data/demo), the sandbox stand-ins
 * and the shopper simulator on an accelerated clock. Prints the URLs and, every 10 s, what has
 * happened; stops by itself after `--minutes` (default 5) or on Ctrl-C.
 *
 *   npm run demo -- [--minutes 5] [--traffic-minutes 2] [--port 3100] [--rate 40] [--keep-data] [--seed 7]
 *
 * Clock: ABANDON_AFTER=20s stands for the real-world hour (1 s = 3 simulated minutes); the
 * follow-ups (6 h, 24 h, 72 h in production) come 20 s, 40 s and 60 s after abandonment.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startInProcessAppliance, type InProcessAppliance } from './appliance';
import { startSandboxApp, type SandboxApp } from './sandbox-app';
import { DEMO_CATALOGUE, ShopperSimulator } from './simulator';

/** CLI output (stdout; ESLint keeps console.log out of the code base). */
const say = (...parts: unknown[]): void => void process.stdout.write(`${parts.map(String).join(' ')}\n`);

export const DEMO_CLOCK = {
  ABANDON_AFTER: '20s',
  FOLLOW_UP_DELAYS: '20s,40s,60s',
  PURCHASE_GRACE: '3s',
  FREQUENCY_CAP: '60s',
  ATTRIBUTION_WINDOW: '1h',
  TIMER_TICK: '500ms',
} as const;

interface Args {
  minutes: number;
  trafficMinutes: number;
  port: number;
  rate: number;
  keepData: boolean;
  seed: number;
  dataDir: string;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    minutes: 5,
    trafficMinutes: 2,
    port: 3100,
    rate: 40,
    keepData: false,
    seed: Date.now() % 100_000,
    dataDir: './data/demo',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--minutes') args.minutes = Math.min(num(), 60);
    else if (a === '--traffic-minutes') args.trafficMinutes = num();
    else if (a === '--port') args.port = num();
    else if (a === '--rate') args.rate = Math.min(num(), 600);
    else if (a === '--seed') args.seed = num();
    else if (a === '--keep-data') args.keepData = true;
    else if (a === '--data-dir') args.dataDir = argv[++i] ?? args.dataDir;
    else if (a === '--help' || a === '-h') {
      say(
        'npm run demo -- [--minutes 5] [--traffic-minutes 2] [--port 3100] [--rate 40] [--seed N] [--keep-data] [--data-dir ./data/demo]',
      );
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (args.minutes <= 0) throw new Error('--minutes must be above 0');
  return args;
}

/** A fresh demo database each run (shops are re-registered), unless its PostgreSQL is still running. */
function resetDataDir(dir: string): void {
  const pidFile = join(dir, 'postgres', 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    let alive = false;
    try {
      if (Number.isInteger(pid) && pid > 0) {
        process.kill(pid, 0);
        alive = true;
      }
    } catch {
      alive = false;
    }
    if (alive) throw new Error(`${dir} is in use by PostgreSQL (pid ${pid}): is another demo running?`);
  }
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dataDir = resolve(args.dataDir);
  if (!args.keepData) resetDataDir(dataDir);
  const postal = '1 Sandbox Street, Springfield 12345, USA';
  const running: { sandbox?: SandboxApp; appliance?: InProcessAppliance; simulator?: ShopperSimulator } = {};
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    running.simulator?.stop();
    await running.appliance?.close().catch(() => undefined);
    await running.sandbox?.stop().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => {
    say('\nCtrl-C: stopping the simulator, the appliance and the sandbox…');
    void shutdown(0);
  });
  process.once('SIGTERM', () => void shutdown(0));

  say('Starting the sandbox stand-ins…');
  const sandbox = await startSandboxApp({
    catalogue: DEMO_CATALOGUE,
    mailFrom: 'Reclaim demo <recover@sandbox.example>',
  });
  running.sandbox = sandbox;
  const adminToken = randomBytes(18).toString('base64url');
  const publicUrl = `http://127.0.0.1:${args.port}`;
  say(`Starting the appliance (embedded PostgreSQL in ${dataDir}; the first start takes a few seconds)…`);
  const appliance = await startInProcessAppliance({
    DATA_DIR: dataDir,
    PORT: String(args.port),
    PUBLIC_URL: publicUrl,
    ADMIN_TOKEN: adminToken,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    MERCHANT_POSTAL_ADDRESS: postal,
    HOLDOUT_PERCENT: '10',
    TICKET_THRESHOLD: '200',
    HIGH_VALUE_THRESHOLD: '200',
    ...DEMO_CLOCK,
    ...sandbox.applianceEnv(),
  });
  running.appliance = appliance;
  const url = appliance.url;
  const lines = [
    ['appliance', url],
    ['OpenAPI', `${url}/docs`],
    ['health', `${url}/health`],
    ['admin token', adminToken],
    ['dashboard', `${url}/dashboard`],
    ...Object.entries(sandbox.urls()),
  ];
  say('\nReclaim demo');
  for (const [k, v] of lines) say(`  ${k.padEnd(18)} ${v}`);
  say(
    `\nClock: ABANDON_AFTER=${DEMO_CLOCK.ABANDON_AFTER} (1 s = 3 simulated minutes), follow-ups ${DEMO_CLOCK.FOLLOW_UP_DELAYS} after abandonment.`,
  );
  say(
    `Traffic for ${args.trafficMinutes} min at ${args.rate} shoppers/min, the demo stops after ${args.minutes} min (Ctrl-C stops it earlier).\n`,
  );

  const totalMs = args.minutes * 60_000;
  const trafficMs = Math.min(args.trafficMinutes * 60_000, totalMs);
  const simulator = new ShopperSimulator({
    applianceUrl: url,
    publicUrl,
    adminToken,
    sandbox,
    abandonAfterMs: 20_000,
    durationMs: trafficMs,
    drainMs: totalMs - trafficMs,
    shoppersPerMinute: args.rate,
    postalAddress: postal,
    seed: args.seed,
    log: (line) => say(`  · ${line}`),
  });
  running.simulator = simulator;
  await simulator.setup();
  say(
    `\nOutbox / sent messages of the first shop: curl -s -H "authorization: Bearer ${adminToken}" ${url}/api/shops/${simulator.shops[0]?.id ?? '<shopId>'}/outbox\n`,
  );

  const started = Date.now();
  const progress = setInterval(() => void report(), 10_000);
  const report = async () => {
    const s = simulator.stats;
    const tickets = sandbox.providers.stores.zendesk.tickets.length + sandbox.providers.stores.gorgias.tickets.length;
    const { rows } = await appliance.runtime.pool
      .query<{ n: number; revenue: string }>(
        `SELECT count(*)::int AS n, coalesce(sum(revenue), 0)::text AS revenue FROM read.attribution`,
      )
      .catch(() => ({ rows: [{ n: 0, revenue: '0' }] }));
    const attributed = rows[0] ?? { n: 0, revenue: '0' };
    say(
      `t+${Math.round((Date.now() - started) / 1000)}s  shoppers ${s.shoppers} · abandoned ${s.abandoned} · ` +
        `emails ${sandbox.providers.stores.mail.length} · SMS ${sandbox.providers.stores.twilio.messages.length} · ` +
        `tickets ${tickets} · opens ${s.opens} · clicks ${s.clicks} · orders ${s.boughtDirect + s.boughtOrganic + s.boughtAfterClick} ` +
        `(${s.boughtAfterClick} via a recovery link, ${s.boughtWithCode} with a code) · STOP ${s.stopReplies} · ` +
        `recovered revenue ${Number(attributed.revenue).toFixed(2)} USD in ${attributed.n} attributed orders`,
    );
  };
  const stats = await simulator.run();
  clearInterval(progress);
  await report();
  say(
    `\nDone: ${stats.shoppers} shoppers, ${stats.webhooks} signed webhooks (${stats.webhookFailures} refused), ${stats.errors} simulator errors.`,
  );
  await shutdown(stats.webhookFailures > 0 || stats.errors > 0 ? 1 : 0);
}

main().catch((err) => {
  console.error('demo failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
