import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConfigError, configSettings, loadConfig } from './app-config';
import { configDrift, renderEnvExample, type ConfigFiles } from './config-docs';

const root = join(__dirname, '..', '..', '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const COMPOSE_FILES = ['compose.yaml', 'compose.ports.yaml', 'compose.secrets.yaml'];

function files(): ConfigFiles {
  return {
    readme: read('README.md'),
    envExample: read('.env.example'),
    compose: parse(read('compose.yaml'), { merge: true }) as ConfigFiles['compose'],
    composeTexts: COMPOSE_FILES.map(read),
  };
}

describe('the configuration schema is the one source of README, .env.example and compose.yaml', () => {
  it('declares every setting once, with a description and a group', () => {
    const settings = configSettings();
    expect(settings.length).toBeGreaterThan(40);
    expect(new Set(settings.map((s) => s.name)).size).toBe(settings.length);
    for (const s of settings) expect(s.description.length).toBeGreaterThan(5);
    expect(settings.find((s) => s.name === 'ABANDON_AFTER')?.default).toBe('1h');
    expect(settings.find((s) => s.name === 'ADMIN_TOKEN')?.secret).toBe(true);
  });

  it('README, .env.example and compose agree with it (else: npm run config:docs)', () => {
    expect(configDrift(files())).toEqual([]);
  });

  it('names a setting missing from the README table, .env.example or compose', () => {
    const f = files();
    const compose = structuredClone(f.compose);
    delete compose.services!.reclaim.environment!.KLAVIYO_API_KEY;
    compose.services!.reclaim.environment!.GORGIAS_DOMAIN = '${GORGIAS_DOMAIN:-}';
    const drift = configDrift({
      readme: f.readme.replace(/^\| `FREQUENCY_CAP`.*\n/m, ''),
      envExample: f.envExample.replace(/^# TIMER_TICK=.*\n/m, '') + '# ZENDESK_SUBDOMAIN=\n',
      compose,
      composeTexts: [...f.composeTexts, 'x: ${NOT_A_SETTING:-}'],
    });
    expect(drift).toEqual(
      expect.arrayContaining([
        'README: FREQUENCY_CAP is missing from the configuration table',
        '.env.example: TIMER_TICK is missing',
        '.env.example: ZENDESK_SUBDOMAIN is read by neither the code nor compose',
        'compose.yaml: KLAVIYO_API_KEY is missing from the reclaim service',
        'compose.yaml: reclaim passes GORGIAS_DOMAIN, which the code does not read',
        'compose: ${NOT_A_SETTING} is neither a setting nor a compose variable',
      ]),
    );
  });

  it('notices a changed default', () => {
    const settings = configSettings().map((s) => (s.name === 'ABANDON_AFTER' ? { ...s, default: '2h' } : s));
    const drift = configDrift(files(), settings);
    expect(drift).toContain('compose.yaml: reclaim ABANDON_AFTER is ${ABANDON_AFTER:-1h}, not ${ABANDON_AFTER:-2h}');
    expect(drift).toContain('README: the configuration table differs from the schema (run npm run config:docs)');
    expect(renderEnvExample(settings)).toContain('# ABANDON_AFTER=2h');
  });
});

describe('secrets from files (NAME_FILE, Docker secrets)', () => {
  /** A valid value for every secret, and the companions the provider checks ask for. */
  const SAMPLES: Record<string, string> = {
    DATABASE_URL: 'postgres://reclaim:pw@db:5432/reclaim',
    SMTP_URL: 'smtp://user:pw@mail.example.com:587',
    DKIM_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----',
  };
  const BASE = {
    MAIL_FROM: 'Shop <shop@example.com>',
    DKIM_DOMAIN: 'example.com',
    DKIM_SELECTOR: 's1',
    EMAIL_PROVIDER: 'smtp',
    TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
    TWILIO_FROM: '+15550100000',
    ZENDESK_API_URL: 'https://x.zendesk.com',
    ZENDESK_EMAIL: 'a@example.com',
    GORGIAS_API_URL: 'https://x.gorgias.com',
    GORGIAS_EMAIL: 'a@example.com',
    TICKET_PROVIDER: 'zendesk',
  };
  const dir = mkdtempSync(join(tmpdir(), 'reclaim-secrets-'));

  it.each(
    configSettings()
      .filter((s) => s.secret)
      .map((s) => s.name),
  )('%s_FILE is read, and wins over %s', (name) => {
    const value = SAMPLES[name] ?? `secret-of-${name.toLowerCase()}`;
    const file = join(dir, name);
    writeFileSync(file, `${value}\n`);
    const env: Record<string, string> = { ...BASE, [`${name}_FILE`]: file, [name]: 'ignored' };
    for (const s of configSettings().filter((x) => x.secret && x.name !== name))
      env[s.name] = SAMPLES[s.name] ?? 'plain';
    expect((loadConfig(env) as unknown as Record<string, unknown>)[name]).toBe(value);
  });

  it('an unreadable file stops the start naming the variable', () => {
    try {
      loadConfig({ ADMIN_TOKEN_FILE: join(dir, 'nope') });
      throw new Error('loadConfig accepted a missing file');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([`ADMIN_TOKEN_FILE: cannot read ${join(dir, 'nope')} (ENOENT)`]);
    }
  });

  it('a non-secret setting has no _FILE variant', () => {
    const file = join(dir, 'abandon');
    writeFileSync(file, '5m');
    expect(loadConfig({ ABANDON_AFTER_FILE: file }).ABANDON_AFTER).toBe('1h');
  });
});

describe('whole-number settings', () => {
  it.each([
    ['PORT', '70000', 'PORT: PORT must be a whole number from 0 to 65535'],
    ['HOLDOUT_PERCENT', '101', 'HOLDOUT_PERCENT: HOLDOUT_PERCENT must be a whole number from 0 to 100'],
    ['ROLLOUT_PERCENT', '2.5', 'ROLLOUT_PERCENT: ROLLOUT_PERCENT must be a whole number from 0 to 100'],
    [
      'POLICY_CONTROL_PERCENT',
      '101',
      'POLICY_CONTROL_PERCENT: POLICY_CONTROL_PERCENT must be a whole number from 0 to 100',
    ],
    ['DEAD_LETTER_ATTEMPTS', '0', 'DEAD_LETTER_ATTEMPTS: DEAD_LETTER_ATTEMPTS must be a whole number from 1 to 100'],
  ])('%s=%s is refused with one message naming it', (name, value, message) => {
    try {
      loadConfig({ [name]: value });
      throw new Error(`${name}=${value} was accepted`);
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([message]);
    }
  });

  it("POLICY_CONTROL_PERCENT is the recovery configuration's policy control share (default 0, off)", () => {
    expect(loadConfig({}).recovery.policyControl).toEqual({ percent: 0 });
    expect(loadConfig({ POLICY_CONTROL_PERCENT: '20' }).recovery.policyControl).toEqual({ percent: 20 });
  });
});
