/**
 * `npm run quickstart`: the README's first hour. Starts the sandbox stand-ins (stores, SMTP sink,
 * providers) on the ports `npm run sandbox` uses, prints the `npm start` line that points the
 * appliance at them (with a short ABANDON_AFTER), waits for that appliance, then registers a
 * Shopify shop against the store stand-in and sends one signed sample checkout — printing both as
 * ready-to-paste `curl` lines — and waits for the first recovery e-mail to reach the SMTP sink.
 * The stand-ins keep running (the appliance sends through them) until Ctrl-C.
 *
 * Options: `--appliance <url>` (default http://localhost:3000), `--token <admin token>` (default
 * ADMIN_TOKEN, else DATA_DIR/admin-token as `npm start` generates it), `--abandon-after <duration>`
 * (what the printed line sets; default 30s), `--no-wait` (print the lines and exit at once).
 */
import 'reflect-metadata';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDuration } from '@reclaim/domain';
import { startSandboxApp } from './sandbox-app';
import { DEMO_CATALOGUE } from './simulator';
import { QUICKSTART_SETTINGS, QUICKSTART_SHOP, sampleCheckout } from './quickstart-steps';

const say = (...parts: unknown[]): void => void process.stdout.write(`${parts.map(String).join(' ')}\n`);
const option = (argv: readonly string[], name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Shell single quotes around a value (JSON bodies here contain none of their own). */
const sq = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

function adminToken(argv: readonly string[]): string | undefined {
  const given = option(argv, '--token') ?? process.env.ADMIN_TOKEN;
  if (given) return given;
  const file = join(process.env.DATA_DIR || './data', 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const appliance = (option(argv, '--appliance') ?? 'http://localhost:3000').replace(/\/+$/, '');
  const abandonAfter = option(argv, '--abandon-after') ?? '30s';
  parseDuration(abandonAfter); // a bad value stops here, not in the appliance
  const sandbox = await startSandboxApp({
    storePort: 4010,
    providerPort: 4020,
    smtpPort: 2525,
    catalogue: DEMO_CATALOGUE,
  });
  const stop = async () => {
    await sandbox.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  const mailJson = sandbox.urls()['SMTP sink (JSON)'];

  say('Reclaim quick start: the sandbox stand-ins are up (Ctrl-C stops them).\n');
  say(`1. In another terminal, start the appliance against them (ABANDON_AFTER=${abandonAfter} for the walk-through;`);
  say('   its default is 1h):\n');
  const env = Object.entries(sandbox.applianceEnv()).map(([k, v]) => `${k}=${sq(v)}`);
  say(`   ${[...env, `ABANDON_AFTER=${abandonAfter}`, 'PURCHASE_GRACE=5s', 'npm start'].join(' \\\n     ')}\n`);

  const email = `ada.${Date.now().toString(36)}@example.com`;
  const checkout = sampleCheckout(email);
  const register = {
    ...QUICKSTART_SHOP,
    apiUrl: sandbox.stores.urls.shopify,
    apiToken: sandbox.stores.credentials.shopify,
  };
  const auth = '-H "authorization: Bearer $TOKEN" -H "content-type: application/json"';
  say('2. Register the sample shop against the Shopify stand-in (TOKEN=$(cat data/admin-token)), and give it');
  say('   a postal address, no holdout and no quiet hours:\n');
  say(`   curl -s -X POST ${appliance}/api/shops ${auth} \\\n     -d ${sq(JSON.stringify(register))}`);
  say(
    `   curl -s -X PUT ${appliance}/api/shops/<shop id>/settings ${auth} \\\n     -d ${sq(JSON.stringify(QUICKSTART_SETTINGS))}\n`,
  );
  say('3. Send a signed sample checkout (a lamp, 129.00 USD) as Shopify would:\n');
  const headers = Object.entries(checkout.headers).map(([k, v]) => `-H ${sq(`${k}: ${v}`)}`);
  say(
    `   curl -s -X POST ${appliance}/webhooks/shopify \\\n     ${headers.join(' \\\n     ')} \\\n     --data-binary ${sq(checkout.body)}\n`,
  );
  say(`4. After ABANDON_AFTER the first recovery e-mail goes to ${email}: see it in the dashboard`);
  say(`   (${appliance}/dashboard, admin token) and in the SMTP sink (${sandbox.urls()['SMTP sink page']}).`);
  say(
    `   Its history: curl -s -X POST ${appliance}/api/customers/<shop id>/history ${auth} -d '{"email":"${email}"}'\n`,
  );
  if (argv.includes('--no-wait')) return stop();

  say(`Doing 2 and 3 for you once ${appliance}/health answers …`);
  for (let i = 0; ; i++) {
    const ok = await fetch(`${appliance}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i % 30 === 0 && i > 0) say(`  still waiting for ${appliance} (start it with the line of step 1)`);
    await sleep(1000);
  }
  const token = adminToken(argv);
  if (!token) throw new Error('no admin token: pass --token, set ADMIN_TOKEN, or run from the appliance directory');
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${appliance}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  let created = await call('POST', '/api/shops', register);
  if (created.status === 409) {
    const list = await call('GET', '/api/shops');
    created = {
      status: 200,
      body: (list.body as { id: string; shopDomain: string }[]).find(
        (s) => s.shopDomain === QUICKSTART_SHOP.shopDomain,
      ),
    };
  }
  if (created.status >= 300 || !created.body?.id)
    throw new Error(`POST /api/shops answered ${created.status}: ${JSON.stringify(created.body)}`);
  const shopId = created.body.id as string;
  say(`  ✓ shop ${shopId} (${QUICKSTART_SHOP.shopDomain}) registered`);
  const settings = await call('PUT', `/api/shops/${shopId}/settings`, QUICKSTART_SETTINGS);
  if (settings.status !== 200)
    throw new Error(`PUT settings answered ${settings.status}: ${JSON.stringify(settings.body)}`);
  // Signed afresh: the cart's inactivity counts from its updated_at, so ABANDON_AFTER starts now.
  const fresh = sampleCheckout(email);
  const sent = await fetch(`${appliance}/webhooks/shopify`, {
    method: 'POST',
    headers: fresh.headers,
    body: fresh.body,
  });
  if (sent.status !== 200) throw new Error(`the sample checkout answered ${sent.status}: ${await sent.text()}`);
  const at = Date.now();
  say(`  ✓ signed checkout accepted; waiting for the recovery e-mail to ${email} …`);
  for (;;) {
    const mail = (await fetch(mailJson).then((r) => r.json())) as { to: string[]; headers: Record<string, string> }[];
    const first = mail.find((m) => m.to.includes(email));
    if (first) {
      say(
        `  ✓ "${first.headers.subject ?? '(no subject)'}" reached the SMTP sink ${Math.round((Date.now() - at) / 1000)} s after the checkout.`,
      );
      say(`    Dashboard: ${appliance}/dashboard · customer history: the curl line of step 4 with shop id ${shopId}`);
      say('  The stand-ins keep running for the follow-ups (Ctrl-C stops them).');
      return;
    }
    if (Date.now() - at > 5 * 60_000) {
      say(
        '  ✗ no e-mail within 5 minutes: check the appliance runs with the environment of step 1 and look at /health',
      );
      return;
    }
    await sleep(1000);
  }
}

main().catch((err) => {
  console.error('quickstart failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
