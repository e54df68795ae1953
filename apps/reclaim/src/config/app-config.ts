import { readFileSync } from 'node:fs';
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
  defaultRecoveryConfig,
  RECOVERY_SETTING_DEFAULTS,
  recoveryConfig,
  type EmailConsentPolicy,
  type RecoveryConfig,
} from '@reclaim/domain';
import {
  gorgiasConfigFromEnv,
  klaviyoConfigFromEnv,
  smtpConfigFromEnv,
  twilioConfigFromEnv,
  zendeskConfigFromEnv,
  type GorgiasConfig,
  type KlaviyoConfig,
  type SmtpConfig,
  type TwilioConfig,
  type ZendeskConfig,
} from '@reclaim/providers';
import { declaredSettings, Setting, type SettingInfo } from './setting';

/** A number strictly between 0 and 1 (a probability threshold), the message naming the variable. */
function IsProbability(name: string): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isProbability',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${name} must be a number between 0 and 1 (exclusive), e.g. 0.6` },
      validator: {
        validate(value: unknown) {
          return typeof value === 'number' && Number.isFinite(value) && value > 0 && value < 1;
        },
      },
    });
}

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

/** A whole number within [min, max]; one message naming the variable for every way to miss. */
function WholeNumber(min: number, max: number): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    const message = `${String(key)} must be a whole number from ${min} to ${max}`;
    IsInt({ message })(target, key);
    Min(min, { message })(target, key);
    Max(max, { message })(target, key);
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
  @Setting({ group: 'appliance', description: 'HTTP port (webhooks, admin API, health, docs)', compose: '3000' })
  @Transform(({ value }) => (value === undefined ? 3000 : Number(value)))
  @WholeNumber(0, 65535)
  PORT = 3000;

  @Setting({
    group: 'appliance',
    secret: true,
    description:
      'PostgreSQL for the event store (default adapter), read models and keys. Unset: embedded PostgreSQL under DATA_DIR',
    compose: 'postgres://reclaim:${POSTGRES_PASSWORD:-}@postgres:5432/reclaim',
  })
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /** Where the embedded database, the generated master key and the admin token live. */
  @Setting({
    group: 'appliance',
    description: 'embedded database, generated master key and admin token',
    compose: '/app/data',
  })
  @IsString()
  DATA_DIR = './data';

  @Setting({
    group: 'appliance',
    secret: true,
    defaultText: 'generated into `DATA_DIR/admin-token`',
    description: 'admin API bearer token (generate with `openssl rand -hex 32`)',
  })
  @IsOptional()
  @IsString()
  ADMIN_TOKEN?: string;

  @Setting({ group: 'appliance', secret: true, description: 'read-only API token' })
  @IsOptional()
  @IsString()
  ANALYST_TOKEN?: string;

  @Setting({
    group: 'appliance',
    secret: true,
    defaultText: 'generated into `DATA_DIR/master.key` (with a warning)',
    description:
      '32 bytes, base64 or hex: wraps the per-customer data keys and the shop secrets. Losing it loses that data',
  })
  @IsOptional()
  @IsString()
  RECLAIM_MASTER_KEY?: string;

  @Setting({
    group: 'appliance',
    secret: true,
    description:
      'comma-separated master keys still accepted during a master-key rotation (`npm run cli -- keys rotate-master`); remove once it has finished',
  })
  @IsOptional()
  @IsString()
  OLD_MASTER_KEYS?: string;

  @Setting({ group: 'appliance', description: '`postgres` or `eventstoredb`', compose: 'eventstoredb' })
  @IsIn(['postgres', 'eventstoredb'])
  EVENT_STORE: 'postgres' | 'eventstoredb' = 'postgres';

  @Setting({
    group: 'appliance',
    description: '`esdb://host:2113?tls=false` when `EVENT_STORE=eventstoredb`',
    compose: '${EVENTSTORE_URL:-esdb://eventstoredb:2113?tls=false}',
    example: 'esdb://es1:2113,es2:2113,es3:2113?tls=true',
  })
  @IsOptional()
  @Matches(/^(esdb|kurrentdb)(\+discover)?:\/\//, { message: 'EVENTSTORE_URL must be an esdb:// connection string' })
  EVENTSTORE_URL?: string;

  @Setting({
    group: 'appliance',
    description: 'comma list; unset = no Kafka relay',
    compose: '${KAFKA_BROKERS:-kafka:9092}',
    example: 'kafka1:9092,kafka2:9092,kafka3:9092',
  })
  @IsOptional()
  @IsString()
  KAFKA_BROKERS?: string;

  @Setting({ group: 'appliance', description: 'topic of the relay' })
  @IsString()
  KAFKA_TOPIC = 'reclaim.events.v1';

  @Setting({ group: 'appliance', description: 'background roles of this instance (`none` = HTTP only)' })
  @IsString()
  @Matches(/^\s*(none|(ingest|engine|projector|relay)(\s*,\s*(ingest|engine|projector|relay))*)\s*$/, {
    message: `ROLES must be a comma list of ${ROLE_NAMES.join(', ')}, or none (HTTP only)`,
  })
  ROLES = 'ingest,engine,projector,relay';

  /** Partitions of the engine's subscriptions by stream hash; the engine instances share them. */
  @Setting({
    group: 'appliance',
    description:
      'partitions of the engine by stream hash (each with its own checkpoint and leader lock): several instances with the engine role share them; changing it re-splits from the lowest checkpoint once every instance runs the new count',
  })
  @Transform(toInt(4))
  @WholeNumber(1, 64)
  ENGINE_PARTITIONS = 4;

  // Every in-process cache is a bounded LRU; the README's memory table sizes each.
  @Setting({
    group: 'appliance',
    description: 'unwrapped customer data keys kept in memory (LRU, 5 min TTL; ~1.4 KB each)',
  })
  @Transform(toInt(20_000))
  @WholeNumber(100, 10_000_000)
  CACHE_CUSTOMER_KEYS = 20_000;

  @Setting({ group: 'appliance', description: 'shops kept by the webhook look-up cache (LRU, 5 s TTL; ~3.3 KB each)' })
  @Transform(toInt(10_000))
  @WholeNumber(10, 1_000_000)
  CACHE_SHOPS = 10_000;

  @Setting({
    group: 'appliance',
    description: 'shops whose recovery settings and deciders the engine keeps (LRU; ~1 KB each)',
  })
  @Transform(toInt(1_000))
  @WholeNumber(10, 1_000_000)
  CACHE_SHOP_SETTINGS = 1_000;

  @Setting({ group: 'appliance', description: 'API token grants kept (LRU, 5 s TTL; ~1.2 KB each)' })
  @Transform(toInt(10_000))
  @WholeNumber(10, 1_000_000)
  CACHE_API_TOKENS = 10_000;

  @Setting({ group: 'appliance', description: 'compiled message templates kept (LRU; ~65 KB each)' })
  @Transform(toInt(200))
  @WholeNumber(10, 100_000)
  CACHE_TEMPLATES = 200;

  @Setting({ group: 'appliance', description: 'larger bodies get 413 before being buffered' })
  @IsString()
  @Matches(/^\s*\d+\s*(b|kb|kib|mb|mib)?\s*$/i, { message: 'WEBHOOK_BODY_LIMIT must be a size like 1mb or 524288' })
  WEBHOOK_BODY_LIMIT = '1mb';

  /** How long a rotated-out webhook secret stays valid when the rotation does not say. */
  @Setting({ group: 'appliance', description: 'how long a rotated-out webhook secret stays valid by default' })
  @IsString()
  @Matches(/^\d+(ms|s|m|h|d)$/, { message: 'SECRET_ROTATION_WINDOW must be a duration like 24h' })
  SECRET_ROTATION_WINDOW = '24h';

  @Setting({ group: 'appliance', description: '`fatal`…`trace`, `silent`; logs are JSON and carry no personal data' })
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** The public base URL merchants point their webhooks at (shown by the admin API). */
  @Setting({
    group: 'appliance',
    defaultText: '`http://localhost:$PORT`',
    description:
      'base of the webhook URLs and of the unsubscribe / tracking links in messages (warned at start when not https)',
    compose: '${PUBLIC_URL:?set PUBLIC_URL in .env}',
    example: 'https://reclaim.example.com',
  })
  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'PUBLIC_URL must start with http:// or https://' })
  PUBLIC_URL?: string;

  // ------------------------------------------------------------------ recovery engine

  /** Inactivity after which a reachable, unpaid cart is abandoned. */
  @Setting({
    group: 'recovery',
    description: 'inactivity after which a reachable, unpaid cart is abandoned (`90s`, `15m`, `1h`, `3d`)',
  })
  @IsDuration({ min: 1000 })
  ABANDON_AFTER: string = RECOVERY_SETTING_DEFAULTS.abandonAfter;

  /** Delays of the follow-up steps, counted from abandonment (step 0 is sent at abandonment). */
  @Setting({
    group: 'recovery',
    description: `follow-up steps, counted from abandonment (step 0 is at abandonment); default discounts ${defaultRecoveryConfig.discountPercents.map((p) => `${p} %`).join(', ')}`,
  })
  @IsDuration({ list: true })
  FOLLOW_UP_DELAYS: string = RECOVERY_SETTING_DEFAULTS.followUpDelays;

  /** Cart value (shop currency) from which the premium sequence is chosen. */
  @Setting({ group: 'recovery', description: 'cart value (shop currency) selecting the premium sequence' })
  @Matches(/^\d{1,12}(\.\d{1,4})?$/, { message: 'HIGH_VALUE_THRESHOLD must be a decimal amount like 200 or 199.99' })
  HIGH_VALUE_THRESHOLD: string = RECOVERY_SETTING_DEFAULTS.highValueThreshold;

  @Setting({
    group: 'recovery',
    description: 'cost of one e-mail (shop currency) weighed by the channel choice; per-shop setting overrides',
  })
  @Matches(/^\d{1,6}(\.\d{1,6})?$/, { message: 'CHANNEL_COST_EMAIL must be a decimal amount like 0.001' })
  CHANNEL_COST_EMAIL: string = RECOVERY_SETTING_DEFAULTS.channelCostEmail;

  @Setting({
    group: 'recovery',
    description: 'cost of one SMS (shop currency) weighed by the channel choice; per-shop setting overrides',
  })
  @Matches(/^\d{1,6}(\.\d{1,6})?$/, { message: 'CHANNEL_COST_SMS must be a decimal amount like 0.05' })
  CHANNEL_COST_SMS: string = RECOVERY_SETTING_DEFAULTS.channelCostSms;

  @Setting({
    group: 'recovery',
    description:
      'cost of one push notification (shop currency) weighed by the channel choice; per-shop setting overrides',
  })
  @Matches(/^\d{1,6}(\.\d{1,6})?$/, { message: 'CHANNEL_COST_PUSH must be a decimal amount like 0' })
  CHANNEL_COST_PUSH: string = RECOVERY_SETTING_DEFAULTS.channelCostPush;

  /** Cart value from which one support ticket is opened per cart. */
  @Setting({ group: 'recovery', description: 'cart value from which one support ticket is opened per cart' })
  @Matches(/^\d{1,12}(\.\d{1,4})?$/, { message: 'TICKET_THRESHOLD must be a decimal amount like 200 or 199.99' })
  TICKET_THRESHOLD: string = RECOVERY_SETTING_DEFAULTS.ticketThreshold;

  @Setting({
    group: 'recovery',
    description: 'share of recoveries that receive nothing (lift measurement); per-shop setting overrides',
  })
  @Transform(toInt(RECOVERY_SETTING_DEFAULTS.holdoutPercent))
  @WholeNumber(0, 100)
  HOLDOUT_PERCENT: number = RECOVERY_SETTING_DEFAULTS.holdoutPercent;

  /** `shadow`: every decision recorded, nothing sent (per-shop settings override it). */
  @Setting({
    group: 'recovery',
    description: '`shadow`: every decision recorded, nothing sent; per-shop setting overrides',
  })
  @IsIn(['live', 'shadow'], { message: 'MODE must be live or shadow' })
  MODE: 'live' | 'shadow' = 'live';

  @Setting({
    group: 'recovery',
    description: 'share of non-holdout recoveries that send live (the rest run in shadow)',
  })
  @Transform(toInt(RECOVERY_SETTING_DEFAULTS.rolloutPercent))
  @WholeNumber(0, 100)
  ROLLOUT_PERCENT: number = RECOVERY_SETTING_DEFAULTS.rolloutPercent;

  @Setting({
    group: 'recovery',
    description: 'an order this long after a click on a recovery message is attributed to it',
  })
  @IsDuration()
  ATTRIBUTION_WINDOW: string = RECOVERY_SETTING_DEFAULTS.attributionWindow;

  /** Window for late order webhooks around abandonment and payment. */
  @Setting({
    group: 'recovery',
    description: 'window for late order webhooks (no send while an order may be on its way)',
  })
  @IsDuration()
  PURCHASE_GRACE: string = RECOVERY_SETTING_DEFAULTS.purchaseGrace;

  @Setting({ group: 'recovery', description: 'validity of the unique discount codes' })
  @IsDuration({ min: 60_000 })
  DISCOUNT_EXPIRY: string = RECOVERY_SETTING_DEFAULTS.discountExpiry;

  /** No discount to a customer recovered with one within this window (anti-gaming). */
  @Setting({ group: 'recovery', description: 'no discount to a customer recovered with one within this window' })
  @IsDuration()
  DISCOUNT_COOLDOWN: string = RECOVERY_SETTING_DEFAULTS.discountCooldown;

  /** Nothing from another recovery within this time of the customer's last recovery message. */
  @Setting({
    group: 'recovery',
    description: "nothing from another recovery within this time of the customer's last recovery message",
  })
  @IsDuration()
  FREQUENCY_CAP: string = RECOVERY_SETTING_DEFAULTS.frequencyCap;

  @Setting({
    group: 'recovery',
    description: 'or `unless-opted-out`; per-shop setting overrides (SMS always needs recorded consent)',
  })
  @IsIn(['subscribers-only', 'unless-opted-out'], {
    message: 'EMAIL_CONSENT_POLICY must be subscribers-only or unless-opted-out',
  })
  EMAIL_CONSENT_POLICY: EmailConsentPolicy = RECOVERY_SETTING_DEFAULTS.emailConsentPolicy;

  @Setting({
    group: 'recovery',
    description:
      "`on`: each follow-up moves to the customer's best hour (engagement profile by local hour and weekday) within `SEND_TIME_WINDOW` of its nominal time, on a randomised arm of the recoveries; per-shop `sendTime.enabled` overrides (RFC 0012)",
  })
  @IsIn(['on', 'off'], { message: 'SEND_TIME_OPTIMISATION must be on or off' })
  SEND_TIME_OPTIMISATION: 'on' | 'off' = RECOVERY_SETTING_DEFAULTS.sendTimeOptimisation;

  @Setting({
    group: 'recovery',
    description:
      'share of the non-holdout recoveries in the send-time `on` arm; the rest keep nominal times as the control (the measured effect)',
  })
  @Transform(toInt(RECOVERY_SETTING_DEFAULTS.sendTimeArmPercent))
  @WholeNumber(0, 100)
  SEND_TIME_ARM_PERCENT: number = RECOVERY_SETTING_DEFAULTS.sendTimeArmPercent;

  @Setting({ group: 'recovery', description: 'a follow-up moves at most this far either side of its nominal time' })
  @IsDuration({ min: 0 })
  SEND_TIME_WINDOW: string = RECOVERY_SETTING_DEFAULTS.sendTimeWindow;

  @Setting({
    group: 'recovery',
    description:
      'a moved follow-up is never earlier than this after abandonment (nor earlier than nominal when its delay is shorter)',
  })
  @IsDuration({ min: 0 })
  SEND_TIME_MIN_DELAY: string = RECOVERY_SETTING_DEFAULTS.sendTimeMinDelay;

  @Setting({
    group: 'recovery',
    description:
      "pseudo-events of the shop's engagement profile in each customer's (Dirichlet prior): a customer's own events weigh n / (n + this)",
  })
  @Transform(toInt(RECOVERY_SETTING_DEFAULTS.sendTimePriorStrength))
  @WholeNumber(0, 1000)
  SEND_TIME_PRIOR_STRENGTH: number = RECOVERY_SETTING_DEFAULTS.sendTimePriorStrength;

  /** How often due timers and queued effects are processed. */
  @Setting({
    group: 'recovery',
    description: 'fallback poll of the engine role: timers run at their due time and sends when queued (LISTEN/NOTIFY)',
  })
  @IsDuration({ min: 100 })
  TIMER_TICK = '1s';

  /** First wait of a step blocked by an outside error (store API unreachable); doubles per consecutive deferral. */
  @Setting({
    group: 'recovery',
    description:
      'first wait of a step blocked by an outside error (store API unreachable, 5xx, rate limited); it doubles with each consecutive deferral, up to `OUTSIDE_ERROR_RETRY_MAX`',
  })
  @IsDuration({ min: 100 })
  OUTSIDE_ERROR_RETRY = '1m';

  @Setting({ group: 'recovery', description: 'longest wait between the retries of a step blocked by an outside error' })
  @IsDuration({ min: 100 })
  OUTSIDE_ERROR_RETRY_MAX = '1h';

  /** Lease of a claimed effect request (a send, a reconciliation, a ticket). */
  @Setting({
    group: 'recovery',
    description:
      'lease of a claimed effect request (a send, a reconciliation, a ticket): a request whose runner crashed or lost the database is taken over after it (an interrupted send is reconciled, never resent blindly); must exceed the longest provider call',
  })
  @IsDuration({ min: 5000 })
  EFFECT_LEASE = '5m';

  /** `/health` is `degraded` while a step has been blocked by outside errors for longer than this. */
  @Setting({
    group: 'recovery',
    description:
      '`/health` reports `degraded` while a step of a running recovery has been blocked by outside errors (store API, e-mail or SMS provider) for longer than this',
  })
  @IsDuration({ min: 1000 })
  BLOCKED_STEP_DEGRADED_AFTER = '15m';

  /** How long an open, click or delivery status that arrived before its send was recorded is kept waiting for it. */
  @Setting({
    group: 'recovery',
    description:
      'how long an open, click or delivery status that arrived before its message was recorded as sent waits for the send record; then it expires (counted in `reclaim_engagement_held{status="expired"}`)',
  })
  @IsDuration({ min: 1000 })
  ENGAGEMENT_HOLD = '7d';

  /** Default sender name in emails (per-shop `storeName` overrides it). */
  @Setting({
    group: 'recovery',
    defaultText: 'the shop domain',
    description: 'sender name in emails; per-shop `storeName` overrides',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  MERCHANT_NAME?: string;

  /** Default postal address printed in every email (R25; per-shop `postalAddress` overrides it). */
  @Setting({
    group: 'recovery',
    description: 'postal address printed in every email (required to send email); per-shop `postalAddress` overrides',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  MERCHANT_POSTAL_ADDRESS?: string;

  @Setting({
    group: 'recovery',
    description:
      'recovery score (RFC 0011): a recovery is labelled purchased when its customer (or its cart) ordered within this long of abandonment; recoveries whose window is still open are not trained on',
  })
  @IsDuration({ min: 3_600_000 })
  SCORE_LABEL_WINDOW = '7d';

  @Setting({
    group: 'recovery',
    description:
      'recovery score: labelled outcomes a shop needs before its own model is trained; below it the pooled outcomes of every shop are used (scope `pooled`), and below it there too there is no score (the state says how many are still needed)',
  })
  @Transform(({ value }) => (value === undefined ? 200 : Number(value)))
  @WholeNumber(30, 10_000_000)
  SCORE_MIN_OUTCOMES = 200;

  @Setting({
    group: 'recovery',
    description:
      "recovery score: how often the engine role trains every shop's model (champion/challenger on the most recent outcomes; also at start); `0` turns the schedule off (`npm run cli -- model train`, `POST /api/models/:shopId/train` still work)",
  })
  @IsDuration({ min: 0 })
  SCORE_RETRAIN_INTERVAL = '24h';

  @Setting({
    group: 'recovery',
    description:
      "routing by score: `on` puts each scored recovery in a band (high probability × high value → a support ticket with the score and why; high → the short sequence; low → the nurture sequence; the middle → the catalogue's match); it acts only once the shop has a live model (before, every recovery is recorded as unscored and keeps today's rules); per-shop `routing.enabled` overrides",
  })
  @IsIn(['on', 'off'], { message: 'ROUTING_BY_SCORE must be on or off' })
  ROUTING_BY_SCORE: 'on' | 'off' = RECOVERY_SETTING_DEFAULTS.routingByScore;

  @Setting({
    group: 'recovery',
    description:
      'routing by score: a recovery score at or above this is high probability (per-shop `routing.highProbability`)',
  })
  @Transform(({ value }) => (value === undefined ? RECOVERY_SETTING_DEFAULTS.routingHighProbability : Number(value)))
  @IsProbability('ROUTING_HIGH_PROBABILITY')
  ROUTING_HIGH_PROBABILITY: number = RECOVERY_SETTING_DEFAULTS.routingHighProbability;

  @Setting({
    group: 'recovery',
    description:
      'routing by score: a recovery score below this is low probability, routed to the nurture sequence (per-shop `routing.lowProbability`); must be below ROUTING_HIGH_PROBABILITY',
  })
  @Transform(({ value }) => (value === undefined ? RECOVERY_SETTING_DEFAULTS.routingLowProbability : Number(value)))
  @IsProbability('ROUTING_LOW_PROBABILITY')
  ROUTING_LOW_PROBABILITY: number = RECOVERY_SETTING_DEFAULTS.routingLowProbability;

  @Setting({
    group: 'recovery',
    description:
      'routing by score: the cart value (shop currency) from which a high-probability cart gets personal attention; unset: `TICKET_THRESHOLD` (per-shop `routing.highValue`)',
  })
  @IsOptional()
  @Matches(/^\d{1,12}(\.\d{1,4})?$/, { message: 'ROUTING_HIGH_VALUE must be a decimal amount like 500 or 499.99' })
  ROUTING_HIGH_VALUE?: string;

  @Setting({
    group: 'recovery',
    description:
      "policy control arm: share of the live, non-holdout recoveries drawn at the start to run the fixed rules as a whole (no routing by score, no experiments, the discount ladder, send-time optimisation, channel choice and engagement score off), the rest under the shop's own settings, so the learning policy is measured against the rules on one log; `0` turns it off; per-shop `policyControl.percent` overrides (RFC 0021)",
  })
  @Transform(toInt(RECOVERY_SETTING_DEFAULTS.policyControlPercent))
  @WholeNumber(0, 100)
  POLICY_CONTROL_PERCENT: number = RECOVERY_SETTING_DEFAULTS.policyControlPercent;

  // ------------------------------------------------------------------ read models

  /** Password of the `reclaim_analyst` role the migrations create (else NOLOGIN). Never logged. */
  @Setting({
    group: 'read-models',
    secret: true,
    description:
      'when set, the `reclaim_analyst` role the migrations create (if missing) can log in with it; else `NOLOGIN`',
  })
  @IsOptional()
  @IsString()
  ANALYST_DB_PASSWORD?: string;

  /** Pending events above which /health reports a subscription `degraded`. */
  @Setting({
    group: 'read-models',
    description: 'pending events above which `/health` reports a subscription `degraded` (see docs/analytics.md)',
  })
  @Transform(toInt(1000))
  @WholeNumber(1, 100_000)
  SUBSCRIPTION_LAG_THRESHOLD = 1000;

  /** Attempts before an event a durable consumer cannot apply is parked as a dead letter. */
  @Setting({
    group: 'appliance',
    description:
      'attempts (the first failure included) before an event a background consumer cannot apply is parked as a dead letter; only its own cart/stream waits, everything else keeps flowing',
  })
  @Transform(toInt(8))
  @WholeNumber(1, 100)
  DEAD_LETTER_ATTEMPTS = 8;

  /** Attempts of an effect request (deferred, or its handler threw) before it is parked as a dead letter. */
  @Setting({
    group: 'appliance',
    description:
      'attempts of an effect request (a send, a reconciliation, a ticket, a profile push) that keeps failing before it is parked as a dead letter (`effects` in the dead-letter list, with its error; retry it there)',
  })
  @Transform(toInt(20))
  @WholeNumber(1, 1000)
  EFFECT_MAX_ATTEMPTS = 20;

  /** First back-off between those attempts; it doubles, capped at 5 minutes. */
  @Setting({
    group: 'appliance',
    description: 'first back-off between the attempts of a blocked event; it doubles each time, capped at 5 minutes',
  })
  @IsDuration({ min: 10 })
  DEAD_LETTER_BACKOFF = '1s';

  // ------------------------------------------------------------------ providers (email, SMS, tickets, stores)

  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. */
  @Setting({
    group: 'providers',
    secret: true,
    description:
      '`smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`; user and password percent-encoded. Recovery e-mail over SMTP (pooled)',
    example: 'smtp://mailpit:1025',
  })
  @IsOptional()
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  /** From address of SMTP mail, e.g. `Lumen Lamps <shop@lumen.example>`. */
  @Setting({
    group: 'providers',
    description: 'From address of SMTP mail, e.g. `Shop <shop@example.com>` (required with `SMTP_URL`)',
    example: 'Reclaim <no-reply@example.com>',
  })
  @IsOptional()
  @Matches(/@[A-Za-z0-9.-]+\.[A-Za-z]{2,}>?\s*$/, { message: 'MAIL_FROM must contain an e-mail address' })
  MAIL_FROM?: string;

  @Setting({
    group: 'providers',
    description: 'with `DKIM_SELECTOR` and `DKIM_PRIVATE_KEY`: DKIM-sign SMTP mail for this domain',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/, { message: 'DKIM_DOMAIN must be a domain name' })
  DKIM_DOMAIN?: string;

  @Setting({ group: 'providers', description: 'DKIM selector (DNS label) of the signing key' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,63}$/, { message: 'DKIM_SELECTOR must be a DNS label' })
  DKIM_SELECTOR?: string;

  /** PEM private key (`\n` escapes allowed). Never logged. */
  @Setting({
    group: 'providers',
    secret: true,
    description: 'PEM private key of the DKIM selector (`\\n` escapes allowed)',
  })
  @IsOptional()
  @Matches(/-----BEGIN (RSA )?PRIVATE KEY-----/, { message: 'DKIM_PRIVATE_KEY must be a PEM private key' })
  DKIM_PRIVATE_KEY?: string;

  @Setting({
    group: 'providers',
    secret: true,
    description:
      'private API key: e-mail through a Klaviyo flow (an event per message, `unique_id` = our idempotency key); also pushes segment and recovery context to profiles (`reclaim_*`)',
  })
  @IsOptional()
  @IsString()
  KLAVIYO_API_KEY?: string;

  @Setting({
    group: 'providers',
    defaultText: '`https://a.klaviyo.com`',
    description: 'Klaviyo API base (point it at a stand-in)',
  })
  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'KLAVIYO_API_URL must start with http:// or https://' })
  KLAVIYO_API_URL?: string;

  @Setting({ group: 'providers', defaultText: '`2026-07-15`', description: 'Klaviyo API revision header' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}(\.pre)?$/, { message: 'KLAVIYO_REVISION must be a revision date like 2026-07-15' })
  KLAVIYO_REVISION?: string;

  @Setting({
    group: 'providers',
    description:
      "with KLAVIYO_API_KEY: as each recovery starts, the shopper's Klaviyo facts (predictive analytics, segments, lists, consent, last activity) are read once within this time and recorded (`recovery.enriched`), else recorded as unavailable with the reason; `0` turns enrichment off",
  })
  @IsDuration({ min: 0 })
  KLAVIYO_ENRICHMENT_TIMEOUT = '2s';

  @Setting({
    group: 'providers',
    description:
      "with EMAIL_PROVIDER=klaviyo: how often the engine role reads Klaviyo's opens, clicks and bounces of Reclaim's messages (Get Events with a cursor kept in `engine.engagement_sources`) into the recoveries' engagement; `0` turns it off",
  })
  @IsDuration({ min: 0 })
  KLAVIYO_ENGAGEMENT_POLL = '5m';

  /** Where recovery e-mail goes; default: `smtp` with SMTP_URL, else `klaviyo` with KLAVIYO_API_KEY, else `outbox`. */
  @Setting({
    group: 'providers',
    defaultText: '`smtp` with `SMTP_URL`, else `klaviyo` with `KLAVIYO_API_KEY`, else `outbox`',
    description:
      '`outbox` (local, `GET /api/shops/:id/outbox`: what would have been sent), `smtp` or `klaviyo`; required when both are configured',
  })
  @IsOptional()
  @IsIn(['outbox', 'smtp', 'klaviyo'], { message: 'EMAIL_PROVIDER must be outbox, smtp or klaviyo' })
  EMAIL_PROVIDER?: 'outbox' | 'smtp' | 'klaviyo';

  @Setting({
    group: 'providers',
    description: '`AC…`: SMS through Twilio (without it the SMS channel is skipped as `channel-unavailable`)',
  })
  @IsOptional()
  @Matches(/^AC[0-9a-fA-F]{32}$/, { message: 'TWILIO_ACCOUNT_SID must look like AC + 32 hex digits' })
  TWILIO_ACCOUNT_SID?: string;

  /** Also verifies `X-Twilio-Signature` on the status and inbound webhooks. Never logged. */
  @Setting({
    group: 'providers',
    secret: true,
    description:
      'required with the SID; also verifies `X-Twilio-Signature` on `/webhooks/twilio/status` and `/webhooks/twilio/inbound`',
  })
  @IsOptional()
  @IsString()
  TWILIO_AUTH_TOKEN?: string;

  @Setting({
    group: 'providers',
    description: 'E.164 sender (or an `MG…` messaging service SID); this or `TWILIO_MESSAGING_SERVICE_SID` is required',
  })
  @IsOptional()
  @Matches(/^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/, {
    message: 'TWILIO_FROM must be an E.164 number or a messaging service SID (MG…)',
  })
  TWILIO_FROM?: string;

  @Setting({ group: 'providers', description: '`MG…` messaging service to send from' })
  @IsOptional()
  @Matches(/^MG[0-9a-fA-F]{32}$/, { message: 'TWILIO_MESSAGING_SERVICE_SID must look like MG + 32 hex digits' })
  TWILIO_MESSAGING_SERVICE_SID?: string;

  @Setting({
    group: 'providers',
    defaultText: '`https://api.twilio.com`',
    description:
      "Twilio API base (point it at a stand-in). Status callbacks go to `PUBLIC_URL/webhooks/twilio/status`; set the number's inbound webhook to `PUBLIC_URL/webhooks/twilio/inbound` (STOP replies, R26)",
  })
  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'TWILIO_API_URL must start with http:// or https://' })
  TWILIO_API_URL?: string;

  @Setting({
    group: 'providers',
    description: 'Gorgias tickets for carts ≥ `TICKET_THRESHOLD`: `https://<account>.gorgias.com`',
  })
  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'GORGIAS_API_URL must start with http:// or https://' })
  GORGIAS_API_URL?: string;

  @Setting({ group: 'providers', description: 'Gorgias user e-mail of the API key' })
  @IsOptional()
  @IsString()
  GORGIAS_EMAIL?: string;

  @Setting({ group: 'providers', secret: true, description: 'Gorgias REST API key' })
  @IsOptional()
  @IsString()
  GORGIAS_API_KEY?: string;

  @Setting({
    group: 'providers',
    description:
      'Zendesk tickets for carts ≥ `TICKET_THRESHOLD`: `https://<subdomain>.zendesk.com` (`Idempotency-Key`)',
  })
  @IsOptional()
  @Matches(/^https?:\/\//, { message: 'ZENDESK_API_URL must start with http:// or https://' })
  ZENDESK_API_URL?: string;

  @Setting({ group: 'providers', description: 'Zendesk agent e-mail of the API token' })
  @IsOptional()
  @IsString()
  ZENDESK_EMAIL?: string;

  @Setting({ group: 'providers', secret: true, description: 'Zendesk API token' })
  @IsOptional()
  @IsString()
  ZENDESK_API_TOKEN?: string;

  /** Where high-value carts open a ticket; default: the one configured (both configured: required). */
  @Setting({
    group: 'providers',
    defaultText: 'the one configured, else `none`',
    description: '`none`, `gorgias` or `zendesk`; required when both are configured',
  })
  @IsOptional()
  @IsIn(['none', 'gorgias', 'zendesk'], { message: 'TICKET_PROVIDER must be none, gorgias or zendesk' })
  TICKET_PROVIDER?: 'none' | 'gorgias' | 'zendesk';

  @Setting({
    group: 'providers',
    description:
      "with a ticket provider: as each step is sent, the customer's own open tickets are looked up by e-mail within this time (one attempt) and recorded (`recovery.support-checked`); one about the cart (per shop: `supportTicketMatch`) gets the help copy, or pauses the recovery (`pauseWhileTicketOpen`) until it closes; a failed lookup is recorded with its reason; `0` turns lookups off",
  })
  @IsDuration({ min: 0 })
  SUPPORT_LOOKUP_TIMEOUT = '2s';

  @Setting({
    group: 'providers',
    secret: true,
    description:
      'signing secret of the Zendesk webhook (event-subscribed: ticket created, status changed) calling `POST /webhooks/zendesk/tickets`; checked as base64 HMAC-SHA256 of timestamp + body; without it the route answers 404',
  })
  @IsOptional()
  @IsString()
  ZENDESK_WEBHOOK_SECRET?: string;

  @Setting({
    group: 'providers',
    secret: true,
    description:
      'shared secret the Gorgias HTTP integration (ticket created, ticket updated) sends in the `X-Reclaim-Secret` header to `POST /webhooks/gorgias/tickets`, body `{"ticket_id": "{{ticket.id}}"}`; without it the route answers 404',
  })
  @IsOptional()
  @IsString()
  GORGIAS_WEBHOOK_SECRET?: string;

  /** `on`: stock, prices and discount codes through each shop's apiUrl/apiToken; `off`: no store calls, no codes. */
  @Setting({
    group: 'providers',
    description:
      "`on`: stock, current prices and unique discount codes (bound to the customer) through each shop's `apiUrl`/`apiToken`; `off`: no store calls, messages go out without codes",
  })
  @IsIn(['on', 'off'], { message: 'STORE_ADAPTERS must be on or off' })
  STORE_ADAPTERS: 'on' | 'off' = 'on';

  @Setting({
    group: 'providers',
    description:
      "with STORE_ADAPTERS=on: while a cart is watched, its products' categories (Shopify product type and collections, BigCommerce and WooCommerce categories) are asked from the store once and recorded (`recovery.categories-recorded`, else `recovery.categories-unavailable` with the reason); a product is asked again when its record is older than this; `0` turns the look-up off",
  })
  @IsDuration({ min: 0 })
  CATEGORY_CACHE_TTL = '24h';

  @Setting({
    group: 'providers',
    description:
      '`true`: store API and provider URLs may be loopback or private-network addresses (a store on the LAN, local stand-ins); link-local and metadata addresses stay refused (R22)',
  })
  @IsIn(['true', 'false'], { message: 'ALLOW_PRIVATE_STORE_URLS must be true or false' })
  ALLOW_PRIVATE_STORE_URLS: 'true' | 'false' = 'false';

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
      channelChoice: {
        costs: {
          email: Number(this.CHANNEL_COST_EMAIL),
          sms: Number(this.CHANNEL_COST_SMS),
          push: Number(this.CHANNEL_COST_PUSH),
        },
      },
      routing: {
        enabled: this.ROUTING_BY_SCORE === 'on',
        highProbability: this.ROUTING_HIGH_PROBABILITY,
        lowProbability: this.ROUTING_LOW_PROBABILITY,
        ...(this.ROUTING_HIGH_VALUE !== undefined ? { highValue: this.ROUTING_HIGH_VALUE } : {}),
      },
      sendTime: {
        enabled: this.SEND_TIME_OPTIMISATION === 'on',
        armPercent: this.SEND_TIME_ARM_PERCENT,
        windowMs: parseDuration(this.SEND_TIME_WINDOW),
        minDelayMs: parseDuration(this.SEND_TIME_MIN_DELAY),
        priorStrength: this.SEND_TIME_PRIOR_STRENGTH,
      },
      policyControl: { percent: this.POLICY_CONTROL_PERCENT },
    });
  }

  get deadLetterBackoffMs(): number {
    return parseDuration(this.DEAD_LETTER_BACKOFF);
  }

  get timerTickMs(): number {
    return parseDuration(this.TIMER_TICK);
  }

  /** The back-off of steps blocked by outside errors (`OUTSIDE_ERROR_RETRY`, `OUTSIDE_ERROR_RETRY_MAX`). */
  get outsideRetry(): { readonly firstMs: number; readonly maxMs: number } {
    const firstMs = parseDuration(this.OUTSIDE_ERROR_RETRY);
    return { firstMs, maxMs: Math.max(firstMs, parseDuration(this.OUTSIDE_ERROR_RETRY_MAX)) };
  }

  /** The recovery score's training settings (SCORE_LABEL_WINDOW, SCORE_MIN_OUTCOMES, SCORE_RETRAIN_INTERVAL). */
  get scoring(): { readonly labelWindowMs: number; readonly minOutcomes: number; readonly retrainMs: number } {
    return {
      labelWindowMs: parseDuration(this.SCORE_LABEL_WINDOW),
      minOutcomes: this.SCORE_MIN_OUTCOMES,
      retrainMs: parseDuration(this.SCORE_RETRAIN_INTERVAL),
    };
  }

  get klaviyoEngagementPollMs(): number {
    return parseDuration(this.KLAVIYO_ENGAGEMENT_POLL);
  }

  get engagementHoldMs(): number {
    return parseDuration(this.ENGAGEMENT_HOLD);
  }

  get effectLeaseMs(): number {
    return parseDuration(this.EFFECT_LEASE);
  }

  get blockedStepDegradedAfterMs(): number {
    return parseDuration(this.BLOCKED_STEP_DEGRADED_AFTER);
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

  /** The providers to wire, from the variables above (validated by `loadConfig`). */
  get providers(): ProviderSettings {
    const env = this.providerEnv();
    const smtp = smtpConfigFromEnv(env);
    const klaviyo = klaviyoConfigFromEnv(env);
    const twilio = twilioConfigFromEnv(env);
    const zendesk = zendeskConfigFromEnv(env);
    const gorgias = gorgiasConfigFromEnv(env);
    const email = this.EMAIL_PROVIDER ?? (smtp ? 'smtp' : klaviyo ? 'klaviyo' : 'outbox');
    const tickets = this.TICKET_PROVIDER ?? (zendesk ? 'zendesk' : gorgias ? 'gorgias' : 'none');
    return {
      email:
        email === 'smtp' && smtp
          ? { kind: 'smtp', config: smtp }
          : email === 'klaviyo' && klaviyo
            ? { kind: 'klaviyo', config: klaviyo }
            : { kind: 'outbox' },
      ...(twilio ? { sms: { kind: 'twilio' as const, config: twilio } } : {}),
      // With KLAVIYO_API_KEY, recoveries push their segment and context to the Klaviyo profile,
      // whichever provider sends e-mail.
      ...(klaviyo ? { klaviyo } : {}),
      ...(klaviyo && parseDuration(this.KLAVIYO_ENRICHMENT_TIMEOUT) > 0
        ? { klaviyoEnrichmentTimeoutMs: parseDuration(this.KLAVIYO_ENRICHMENT_TIMEOUT) }
        : {}),
      ...(tickets !== 'none' && parseDuration(this.SUPPORT_LOOKUP_TIMEOUT) > 0
        ? { supportLookupTimeoutMs: parseDuration(this.SUPPORT_LOOKUP_TIMEOUT) }
        : {}),
      tickets:
        tickets === 'zendesk' && zendesk
          ? { kind: 'zendesk', config: zendesk }
          : tickets === 'gorgias' && gorgias
            ? { kind: 'gorgias', config: gorgias }
            : { kind: 'none' },
      storeAdapters: this.STORE_ADAPTERS === 'on',
      ...(this.STORE_ADAPTERS === 'on' && parseDuration(this.CATEGORY_CACHE_TTL) > 0
        ? { categoryCacheTtlMs: parseDuration(this.CATEGORY_CACHE_TTL) }
        : {}),
    };
  }

  /** Problems the per-field checks cannot see: variables that only make sense together. */
  providerProblems(): string[] {
    const problems: string[] = [];
    const env = this.providerEnv();
    const attempt = (vars: string, build: () => unknown): unknown => {
      try {
        return build();
      } catch (err) {
        problems.push(`${vars}: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    };
    const smtp = attempt('SMTP_URL', () => smtpConfigFromEnv(env));
    const klaviyo = attempt('KLAVIYO_API_KEY', () => klaviyoConfigFromEnv(env));
    attempt('TWILIO_ACCOUNT_SID', () => twilioConfigFromEnv(env));
    const zendesk = attempt('ZENDESK_API_URL', () => zendeskConfigFromEnv(env));
    const gorgias = attempt('GORGIAS_API_URL', () => gorgiasConfigFromEnv(env));
    if (this.TWILIO_ACCOUNT_SID === undefined && this.TWILIO_AUTH_TOKEN !== undefined)
      problems.push('TWILIO_ACCOUNT_SID: required with TWILIO_AUTH_TOKEN');
    if (this.SMTP_URL === undefined && this.MAIL_FROM !== undefined) problems.push('SMTP_URL: required with MAIL_FROM');
    if (this.EMAIL_PROVIDER === 'smtp' && this.SMTP_URL === undefined)
      problems.push('SMTP_URL: required when EMAIL_PROVIDER=smtp');
    if (this.EMAIL_PROVIDER === 'klaviyo' && this.KLAVIYO_API_KEY === undefined)
      problems.push('KLAVIYO_API_KEY: required when EMAIL_PROVIDER=klaviyo');
    if (this.EMAIL_PROVIDER === undefined && smtp && klaviyo)
      problems.push(
        'EMAIL_PROVIDER: both SMTP_URL and KLAVIYO_API_KEY are set; say which sends e-mail (smtp or klaviyo)',
      );
    if (this.TICKET_PROVIDER === 'zendesk' && this.ZENDESK_API_URL === undefined)
      problems.push('ZENDESK_API_URL: required when TICKET_PROVIDER=zendesk');
    if (this.TICKET_PROVIDER === 'gorgias' && this.GORGIAS_API_URL === undefined)
      problems.push('GORGIAS_API_URL: required when TICKET_PROVIDER=gorgias');
    if (this.TICKET_PROVIDER === undefined && zendesk && gorgias)
      problems.push('TICKET_PROVIDER: both Zendesk and Gorgias are configured; say which opens tickets');
    return problems;
  }

  private providerEnv(): Record<string, string | undefined> {
    return {
      SMTP_URL: this.SMTP_URL,
      MAIL_FROM: this.MAIL_FROM,
      DKIM_DOMAIN: this.DKIM_DOMAIN,
      DKIM_SELECTOR: this.DKIM_SELECTOR,
      DKIM_PRIVATE_KEY: this.DKIM_PRIVATE_KEY,
      KLAVIYO_API_KEY: this.KLAVIYO_API_KEY,
      KLAVIYO_API_URL: this.KLAVIYO_API_URL,
      KLAVIYO_REVISION: this.KLAVIYO_REVISION,
      TWILIO_ACCOUNT_SID: this.TWILIO_ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: this.TWILIO_AUTH_TOKEN,
      TWILIO_FROM: this.TWILIO_FROM,
      TWILIO_MESSAGING_SERVICE_SID: this.TWILIO_MESSAGING_SERVICE_SID,
      TWILIO_API_URL: this.TWILIO_API_URL,
      // Status callbacks come back to this appliance; our idempotency key rides in the query.
      TWILIO_STATUS_CALLBACK_URL: `${this.publicUrl}${TWILIO_STATUS_PATH}`,
      GORGIAS_API_URL: this.GORGIAS_API_URL,
      GORGIAS_EMAIL: this.GORGIAS_EMAIL,
      GORGIAS_API_KEY: this.GORGIAS_API_KEY,
      ZENDESK_API_URL: this.ZENDESK_API_URL,
      ZENDESK_EMAIL: this.ZENDESK_EMAIL,
      ZENDESK_API_TOKEN: this.ZENDESK_API_TOKEN,
    };
  }

  get kafkaBrokers(): string[] {
    return (this.KAFKA_BROKERS ?? '')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
  }
}

/** Twilio's webhooks on this appliance (PUBLIC_URL + path is what Twilio signs). */
export const TWILIO_STATUS_PATH = '/webhooks/twilio/status';
export const TWILIO_INBOUND_PATH = '/webhooks/twilio/inbound';

export interface ProviderSettings {
  readonly email:
    | { readonly kind: 'outbox' }
    | { readonly kind: 'smtp'; readonly config: SmtpConfig }
    | { readonly kind: 'klaviyo'; readonly config: KlaviyoConfig };
  readonly sms?: { readonly kind: 'twilio'; readonly config: TwilioConfig };
  /** KLAVIYO_API_KEY set: Klaviyo profile sync (segment and recovery context as profile properties). */
  readonly klaviyo?: KlaviyoConfig;
  /** KLAVIYO_API_KEY set and KLAVIYO_ENRICHMENT_TIMEOUT above 0: enrichment at each recovery's start. */
  readonly klaviyoEnrichmentTimeoutMs?: number;
  readonly tickets:
    | { readonly kind: 'none' }
    | { readonly kind: 'zendesk'; readonly config: ZendeskConfig }
    | { readonly kind: 'gorgias'; readonly config: GorgiasConfig };
  readonly storeAdapters: boolean;
  /** A ticket provider and SUPPORT_LOOKUP_TIMEOUT above 0: the customer's own tickets are read at send time. */
  readonly supportLookupTimeoutMs?: number;
  /** STORE_ADAPTERS=on and CATEGORY_CACHE_TTL above 0: product categories are looked up and cached this long. */
  readonly categoryCacheTtlMs?: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** A declared setting with its default as `loadConfig` applies it (undefined: no default). */
export interface ConfigSetting extends SettingInfo {
  readonly default: string | undefined;
}

/** The configuration schema: every variable `loadConfig` reads, with its default, description and secret flag. */
export function configSettings(): readonly ConfigSetting[] {
  const defaults = new AppConfig() as unknown as Record<string, unknown>;
  return declaredSettings().map((s) => ({
    ...s,
    default: defaults[s.name] === undefined ? undefined : String(defaults[s.name]),
  }));
}

/**
 * Reads the configuration from the environment. A secret setting `NAME` may instead come from the
 * file named by `NAME_FILE` (Docker secrets: `/run/secrets/…`); the file wins when both are set.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const plain: Record<string, string> = {};
  const problems: string[] = [];
  for (const { name, secret } of declaredSettings()) {
    const file = secret ? env[`${name}_FILE`] : undefined;
    let v = env[name];
    if (file !== undefined && file !== '') {
      try {
        v = readFileSync(file, 'utf8').trim();
      } catch (err) {
        problems.push(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
        continue;
      }
    }
    if (v !== undefined && v !== '') plain[name] = v;
  }
  const config = plainToInstance(AppConfig, plain, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: false });
  problems.push(...errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `${e.property}: ${m}`)));
  if (
    Number.isFinite(config.ROUTING_LOW_PROBABILITY) &&
    Number.isFinite(config.ROUTING_HIGH_PROBABILITY) &&
    config.ROUTING_LOW_PROBABILITY >= config.ROUTING_HIGH_PROBABILITY
  ) {
    problems.push('ROUTING_LOW_PROBABILITY: must be below ROUTING_HIGH_PROBABILITY');
  }
  if (config.EVENT_STORE === 'eventstoredb' && !config.EVENTSTORE_URL) {
    problems.push('EVENTSTORE_URL: required when EVENT_STORE=eventstoredb');
  }
  if (problems.length === 0) problems.push(...config.providerProblems());
  if (problems.length) throw new ConfigError(problems);
  return config;
}
