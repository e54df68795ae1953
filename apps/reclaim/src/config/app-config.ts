import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

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
