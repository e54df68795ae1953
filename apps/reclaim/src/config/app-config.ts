import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  registerDecorator,
  validateSync,
  type ValidationOptions,
} from 'class-validator';
import {
  parseDuration,
  parseDurationList,
  recoveryConfig,
  type EmailConsentPolicy,
  type RecoveryConfig,
} from '@reclaim/domain';

/** A duration (`90s`, `15m`, `1h`, `3d`) or, with `list`, a comma list of them, as `parseDuration` reads it. */
function IsDuration(options: { list?: boolean; min?: number } = {}): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    const validationOptions: ValidationOptions = {
      message: `${String(propertyName)} must be ${options.list ? 'a comma list of durations like 6h,24h,72h' : 'a duration like 90s, 15m, 1h or 3d'}${options.min ? ` of at least ${options.min} ms` : ''}`,
    };
    registerDecorator({
      name: 'isDuration',
      target: target.constructor,
      propertyName: String(propertyName),
      options: validationOptions,
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string') return false;
          try {
            const all = options.list ? parseDurationList(value) : [parseDuration(value)];
            return all.every((ms) => ms >= (options.min ?? 0));
          } catch {
            return false;
          }
        },
      },
    });
  };
}

const toInt =
  (fallback: number) =>
  ({ value }: { value: unknown }) =>
    value === undefined ? fallback : Number(value);

const ROLE_NAMES = ['ingest', 'engine', 'projector', 'relay'] as const;
export type Role = (typeof ROLE_NAMES)[number];

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, kib: 1024, mb: 1024 ** 2, mib: 1024 ** 2 };

export function parseBytes(value: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m?.[2].toLowerCase() || 'b';
  if (!m || !(unit in BYTE_UNITS)) throw new Error(`not a size: "${value}" (examples: 1mb, 512kb, 1048576)`);
  return Number(m[1]) * BYTE_UNITS[unit];
}

/**
 * Every environment variable the appliance reads (documented in the README's configuration
 * table). Validated once at start-up: a bad value stops the process with a message naming it.
 */
export class AppConfig {
  @Transform(({ value }) => (value === undefined ? 3000 : Number(value)))
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /** Where the embedded database, the generated master key and the admin token live. */
  @IsString()
  DATA_DIR = './data';

  @IsOptional()
  @IsString()
  ADMIN_TOKEN?: string;

  @IsOptional()
  @IsString()
  ANALYST_TOKEN?: string;

  @IsOptional()
  @IsString()
  RECLAIM_MASTER_KEY?: string;

  @IsIn(['postgres', 'eventstoredb'])
  EVENT_STORE: 'postgres' | 'eventstoredb' = 'postgres';

  @IsOptional()
  @Matches(/^(esdb|kurrentdb)(\+discover)?:\/\//, { message: 'EVENTSTORE_URL must be an esdb:// connection string' })
  EVENTSTORE_URL?: string;

  @IsOptional()
  @IsString()
  KAFKA_BROKERS?: string;

  @IsString()
  KAFKA_TOPIC = 'reclaim.events.v1';

  @IsString()
  @Matches(/^\s*(none|(ingest|engine|projector|relay)(\s*,\s*(ingest|engine|projector|relay))*)\s*$/, {
    message: `ROLES must be a comma list of ${ROLE_NAMES.join(', ')}, or none (HTTP only)`,
  })
  ROLES = 'ingest,engine,projector,relay';

  @IsString()
  @Matches(/^\s*\d+\s*(b|kb|kib|mb|mib)?\s*$/i, { message: 'WEBHOOK_BODY_LIMIT must be a size like 1mb or 524288' })
  WEBHOOK_BODY_LIMIT = '1mb';

  /** How long a rotated-out webhook secret stays valid when the rotation does not say. */
  @IsString()
  @Matches(/^\d+(ms|s|m|h|d)$/, { message: 'SECRET_ROTATION_WINDOW must be a duration like 24h' })
  SECRET_ROTATION_WINDOW = '24h';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** The public base URL merchants point their webhooks at (shown by the admin API). */
  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'PUBLIC_URL must start with http:// or https://' })
  PUBLIC_URL?: string;

  // ------------------------------------------------------------------ recovery engine

  /** Inactivity after which a reachable, unpaid cart is abandoned. */
  @IsDuration({ min: 1000 })
  ABANDON_AFTER = '1h';

  /** Delays of the follow-up steps, counted from abandonment (step 0 is sent at abandonment). */
  @IsDuration({ list: true })
  FOLLOW_UP_DELAYS = '6h,24h,72h';

  /** Cart value (shop currency) from which the premium sequence is chosen. */
  @Matches(/^\d{1,12}(\.\d{1,4})?$/, { message: 'HIGH_VALUE_THRESHOLD must be a decimal amount like 200 or 199.99' })
  HIGH_VALUE_THRESHOLD = '200';

  /** Cart value from which one support ticket is opened per cart. */
  @Matches(/^\d{1,12}(\.\d{1,4})?$/, { message: 'TICKET_THRESHOLD must be a decimal amount like 200 or 199.99' })
  TICKET_THRESHOLD = '200';

  @Transform(toInt(10))
  @IsInt({ message: 'HOLDOUT_PERCENT must be a whole number from 0 to 100' })
  @Min(0)
  @Max(100)
  HOLDOUT_PERCENT = 10;

  /** `shadow`: every decision recorded, nothing sent (per-shop settings override it). */
  @IsIn(['live', 'shadow'], { message: 'MODE must be live or shadow' })
  MODE: 'live' | 'shadow' = 'live';

  @Transform(toInt(100))
  @IsInt({ message: 'ROLLOUT_PERCENT must be a whole number from 0 to 100' })
  @Min(0)
  @Max(100)
  ROLLOUT_PERCENT = 100;

  @IsDuration()
  ATTRIBUTION_WINDOW = '5d';

  /** Window for late order webhooks around abandonment and payment. */
  @IsDuration()
  PURCHASE_GRACE = '10m';

  @IsDuration({ min: 60_000 })
  DISCOUNT_EXPIRY = '7d';

  /** No discount to a customer recovered with one within this window (anti-gaming). */
  @IsDuration()
  DISCOUNT_COOLDOWN = '30d';

  /** Nothing from another recovery within this time of the customer's last recovery message. */
  @IsDuration()
  FREQUENCY_CAP = '16h';

  @IsIn(['subscribers-only', 'unless-opted-out'], {
    message: 'EMAIL_CONSENT_POLICY must be subscribers-only or unless-opted-out',
  })
  EMAIL_CONSENT_POLICY: EmailConsentPolicy = 'subscribers-only';

  /** How often due timers and queued effects are processed. */
  @IsDuration({ min: 100 })
  TIMER_TICK = '1s';

  /** Default sender name in emails (per-shop `storeName` overrides it). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  MERCHANT_NAME?: string;

  /** Default postal address printed in every email (R25; per-shop `postalAddress` overrides it). */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  MERCHANT_POSTAL_ADDRESS?: string;

  /** The recovery engine's configuration (appliance-wide defaults; shops override some per shop). */
  get recovery(): RecoveryConfig {
    const followUps = parseDurationList(this.FOLLOW_UP_DELAYS);
    const base = recoveryConfig().discountPercents;
    const discountPercents = [0, ...followUps].map((_, i) => base[Math.min(i, base.length - 1)]);
    return recoveryConfig({
      abandonAfterMs: parseDuration(this.ABANDON_AFTER),
      followUpDelaysMs: followUps,
      discountPercents,
      highValueThreshold: this.HIGH_VALUE_THRESHOLD,
      ticketThreshold: this.TICKET_THRESHOLD,
      holdoutPercent: this.HOLDOUT_PERCENT,
      rolloutPercent: this.ROLLOUT_PERCENT,
      shadowMode: this.MODE === 'shadow',
      attributionWindowMs: parseDuration(this.ATTRIBUTION_WINDOW),
      purchaseGraceMs: parseDuration(this.PURCHASE_GRACE),
      discountValidityMs: parseDuration(this.DISCOUNT_EXPIRY),
      discountCooldownMs: parseDuration(this.DISCOUNT_COOLDOWN),
      frequencyCapMs: parseDuration(this.FREQUENCY_CAP),
      emailConsentPolicy: this.EMAIL_CONSENT_POLICY,
    });
  }

  get timerTickMs(): number {
    return parseDuration(this.TIMER_TICK);
  }

  /** The base of every public link (webhook URLs, unsubscribe, tracking). */
  get publicUrl(): string {
    return (this.PUBLIC_URL ?? `http://localhost:${this.PORT}`).replace(/\/+$/, '');
  }

  get roles(): ReadonlySet<Role> {
    if (this.ROLES.trim() === 'none') return new Set();
    return new Set(this.ROLES.split(',').map((r) => r.trim() as Role));
  }

  get webhookBodyLimit(): number {
    return parseBytes(this.WEBHOOK_BODY_LIMIT);
  }

  get kafkaBrokers(): string[] {
    return (this.KAFKA_BROKERS ?? '')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(new AppConfig()).concat([
    'DATABASE_URL',
    'ADMIN_TOKEN',
    'ANALYST_TOKEN',
    'RECLAIM_MASTER_KEY',
    'EVENTSTORE_URL',
    'KAFKA_BROKERS',
    'PUBLIC_URL',
    'MERCHANT_NAME',
    'MERCHANT_POSTAL_ADDRESS',
  ]);
  const plain: Record<string, string> = {};
  for (const key of known) {
    const v = env[key];
    if (v !== undefined && v !== '') plain[key] = v;
  }
  const config = plainToInstance(AppConfig, plain, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: false });
  const problems = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`));
  if (config.EVENT_STORE === 'eventstoredb' && !config.EVENTSTORE_URL) {
    problems.push('EVENTSTORE_URL: required when EVENT_STORE=eventstoredb');
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}
