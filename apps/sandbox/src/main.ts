/**
 * `npm run sandbox`: the store and provider stand-ins on fixed local ports (or `--*-port 0` for
 * free ones), their URLs, and the environment that points `npm start` at them. Runs until Ctrl-C.
 *
 * With `--simulate --appliance <url> --token <admin token>` it also runs the shopper simulator
 * against that appliance (which must use the printed environment and the same ABANDON_AFTER as
 * `--abandon-after`), for `--minutes` (default 3), then keeps the stand-ins up until Ctrl-C.
 */
import 'reflect-metadata';
import { parseDuration } from '@reclaim/domain';
import { startSandboxApp } from './sandbox-app';
import { DEMO_CATALOGUE, ShopperSimulator } from './simulator';

/** CLI output (stdout; ESLint keeps console.log out of the code base). */
const say = (...parts: unknown[]): void => void process.stdout.write(`${parts.map(String).join(' ')}\n`);

function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function port(argv: readonly string[], name: string, fallback: number): number {
  const v = Number(option(argv, name) ?? fallback);
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new Error(`${name} must be a port number`);
  return v;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const sandbox = await startSandboxApp({
    storePort: port(argv, '--store-port', 4010),
    providerPort: port(argv, '--provider-port', 4020),
    smtpPort: port(argv, '--smtp-port', 2525),
    catalogue: DEMO_CATALOGUE,
  });
  const running: { simulator?: ShopperSimulator } = {};
  const stop = async () => {
    running.simulator?.stop();
    await sandbox.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  say('Reclaim sandbox (Ctrl-C stops it)');
  for (const [k, v] of Object.entries(sandbox.urls())) say(`  ${k.padEnd(18)} ${v}`);
  say('\nPoint the appliance at it (shops then use the store URLs above as their apiUrl):\n');
  const env = Object.entries(sandbox.applianceEnv())
    .map(([k, v]) => `${k}='${v}'`)
    .join(' \\\n  ');
  say(`  ${env} \\\n  ABANDON_AFTER=20s FOLLOW_UP_DELAYS=20s,40s,60s PURCHASE_GRACE=3s FREQUENCY_CAP=60s npm start\n`);

  if (!argv.includes('--simulate')) return;
  const appliance = option(argv, '--appliance') ?? 'http://127.0.0.1:3000';
  const token = option(argv, '--token') ?? process.env.ADMIN_TOKEN;
  if (token === undefined) throw new Error('--simulate needs --token <admin token> (or ADMIN_TOKEN)');
  const minutes = Math.min(Number(option(argv, '--minutes') ?? 3), 60);
  const simulator = new ShopperSimulator({
    applianceUrl: appliance,
    adminToken: token,
    sandbox,
    abandonAfterMs: parseDuration(option(argv, '--abandon-after') ?? '20s'),
    durationMs: (minutes * 60_000) / 2,
    drainMs: (minutes * 60_000) / 2,
    shoppersPerMinute: Number(option(argv, '--rate') ?? 40),
    log: (line) => say(`  · ${line}`),
  });
  running.simulator = simulator;
  const stats = await simulator.run();
  say('simulation finished (the stand-ins keep running until Ctrl-C):', JSON.stringify(stats));
}

main().catch((err) => {
  console.error('sandbox failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
