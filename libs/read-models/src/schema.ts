/**
 * The read-model tables (schema `read`) as the projections write them: column names and Postgres
 * types, used to load and bulk-upsert rows with set-based SQL (`jsonb_to_recordset`). The DDL is in
 * ./migrations, the TypeORM entities in ./entities.ts; `read-models.int.spec.ts` checks all three agree.
 */
export const READ_SCHEMA = 'read';

export interface ColumnSpec {
  readonly name: string;
  /** Postgres type as written in `jsonb_to_recordset(...) AS x(name type)`. */
  readonly type: 'text' | 'integer' | 'numeric' | 'boolean' | 'timestamptz' | 'date' | 'text[]' | 'integer[]';
}

export interface TableSpec {
  /** Unqualified name in schema `read`. */
  readonly name: string;
  readonly key: readonly string[];
  readonly columns: readonly ColumnSpec[];
}

const c = (name: string, type: ColumnSpec['type']): ColumnSpec => ({ name, type });
const text = (...names: string[]) => names.map((n) => c(n, 'text'));
const int = (...names: string[]) => names.map((n) => c(n, 'integer'));
const num = (...names: string[]) => names.map((n) => c(n, 'numeric'));
const bool = (...names: string[]) => names.map((n) => c(n, 'boolean'));
const ts = (...names: string[]) => names.map((n) => c(n, 'timestamptz'));

export const CARTS: TableSpec = {
  name: 'carts',
  key: ['shop_id', 'cart_id'],
  columns: [
    ...text('shop_id', 'cart_id', 'platform', 'source', 'customer_key', 'currency'),
    ...num('subtotal', 'total'),
    ...int('item_count'),
    ...text('device', 'status'),
    ...bool('reach_email', 'reach_sms'),
    ...ts('first_seen_at', 'last_activity_at', 'abandoned_by_platform_at', 'checkout_completed_at', 'purchased_at'),
    ...text('order_id'),
    ...ts('deleted_at'),
    ...text('position'),
  ],
};

export const CUSTOMERS: TableSpec = {
  name: 'customers',
  key: ['shop_id', 'customer_key'],
  columns: [
    ...text('shop_id', 'customer_key', 'platform'),
    ...int('orders_count'),
    ...num('total_spent'),
    ...text('currency'),
    ...bool('reach_email', 'reach_sms'),
    ...text('email_consent', 'email_consent_source'),
    ...ts('email_consent_at'),
    ...text('sms_consent', 'sms_consent_source'),
    ...ts('sms_consent_at', 'platform_created_at', 'profile_updated_at', 'data_requested_at', 'redacted_at'),
    ...text('position'),
  ],
};

/** Masked contact per customer (never clear text): written by the customers projection with the vault. */
export const CUSTOMER_CONTACTS: TableSpec = {
  name: 'customer_contacts',
  key: ['shop_id', 'customer_key'],
  columns: [...text('shop_id', 'customer_key', 'email_masked', 'phone_masked', 'name_initials', 'updated_position')],
};

export const RECOVERIES: TableSpec = {
  name: 'recoveries',
  key: ['recovery_id'],
  columns: [
    ...text('recovery_id', 'shop_id', 'cart_id', 'customer_key', 'status'),
    ...bool('paused'),
    ...num('cart_value'),
    ...text('currency'),
    ...int('item_count'),
    ...text('device'),
    ...ts('first_activity_at', 'last_activity_at', 'first_abandoned_at', 'abandoned_at'),
    ...text('abandon_source'),
    ...int('times_abandoned'),
    ...text('shop_time_zone'),
    ...bool('holdout'),
    ...text('mode', 'mode_reason'),
    c('segments', 'text[]'),
    ...text('sequence_id'),
    ...int('sequence_version', 'catalogue_version', 'step_count', 'messages_sent'),
    ...text('ticket'),
    ...ts('ended_at'),
    ...text('outcome', 'order_id'),
    ...bool('recovered'),
    ...ts('recovered_at'),
    ...text('position'),
    ...text('arm'),
    ...text('send_time_arm'),
    ...num('send_time_propensity'),
    ...text('policy_arm'),
    ...num('policy_arm_propensity'),
    ...text('routing_band'),
    ...num('routing_score'),
  ],
};

export const MESSAGES: TableSpec = {
  name: 'messages',
  key: ['recovery_id', 'step'],
  columns: [
    ...text('recovery_id'),
    ...int('step'),
    ...text('shop_id', 'channel', 'status', 'reason', 'mode'),
    ...int('attempts', 'deferrals'),
    ...ts('due_at', 'deferred_until'),
    ...text('template_kind', 'template_id'),
    ...num('discount_percent'),
    ...text('discount_code', 'discount_withheld'),
    ...bool('would_send', 'reconciled'),
    ...text('message_id'),
    c('channels_skipped', 'text[]'),
    ...num('cart_value'),
    ...int('item_count'),
    ...ts('sent_at', 'outcome_at', 'opened_at', 'clicked_at', 'unsubscribed_at'),
    ...text('click_host', 'position'),
    ...ts('blocked_since'),
    ...text('detail'),
    ...text('kind', 'line_id'),
  ],
};

export const SEGMENTS: TableSpec = {
  name: 'segments',
  key: ['recovery_id', 'segment'],
  columns: [...text('recovery_id', 'segment', 'shop_id'), ...ts('abandoned_at'), ...text('position')],
};

export const SCORES: TableSpec = {
  name: 'scores',
  key: ['recovery_id'],
  columns: [
    ...text('recovery_id', 'shop_id'),
    ...int('orders_count'),
    ...num('total_spent'),
    ...ts('last_purchase_at'),
    ...int('previous_abandonments', 'previous_recoveries', 'discount_orders_count', 'categories_bought'),
    ...int('ignored_recovery_messages'),
    ...num('cart_value'),
    ...int('item_count'),
    c('cart_categories', 'text[]'),
    ...text('device', 'traffic_source'),
    ...int('hour_of_day'),
    ...text('checkout_stage'),
    ...num('score'),
    ...text('scored_by', 'position'),
  ],
};

export const ORDERS: TableSpec = {
  name: 'orders',
  key: ['shop_id', 'order_id'],
  columns: [
    ...text('shop_id', 'order_id', 'customer_key', 'currency'),
    ...num('total', 'subtotal', 'total_discounts'),
    ...int('discount_codes'),
    c('cart_ids', 'text[]'),
    ...ts('placed_at'),
    ...text('position'),
  ],
};

export const ATTRIBUTION: TableSpec = {
  name: 'attribution',
  key: ['shop_id', 'order_id'],
  columns: [
    ...text('shop_id', 'order_id', 'recovery_id'),
    ...int('step'),
    ...text('channel', 'message_id'),
    ...ts('clicked_at', 'placed_at'),
    ...num('revenue'),
    ...text('currency', 'discount_code'),
    ...bool('discount_used'),
    ...num('discount_cost'),
    ...text('rule', 'position'),
  ],
};

/** Recomputed per (shop, day) cohort by SQL (./projections/funnel.ts), never upserted row by row. */
export const DAILY_FUNNEL: TableSpec = {
  name: 'daily_funnel',
  key: ['shop_id', 'day', 'segment', 'sequence_id', 'arm', 'step', 'channel'],
  columns: [
    ...text('shop_id'),
    c('day', 'date'),
    ...text('segment', 'sequence_id', 'arm'),
    ...int('step'),
    ...text('channel'),
    ...int('abandoned', 'messaged', 'opened', 'clicked', 'recovered'),
    ...num('revenue', 'discount_cost'),
    ...text('currency'),
  ],
};

/** One row per trained recovery-score model of a shop (RFC 0011): the model card's figures. */
export const MODELS: TableSpec = {
  name: 'models',
  key: ['shop_id', 'version'],
  columns: [
    ...text('shop_id'),
    ...int('version'),
    ...text('scope', 'status', 'trigger'),
    ...ts('trained_at', 'training_from', 'training_to'),
    ...num('label_window_ms'),
    ...int('rows', 'positives', 'validation_rows', 'validation_positives'),
    ...ts('validation_from', 'validation_to'),
    ...num('auc', 'brier', 'ece'),
    // JSON text: the 10 reliability bins, and the top standardised weights.
    ...text('reliability', 'top_features', 'content_hash', 'decision_reason'),
    ...num('champion_auc', 'champion_brier'),
    ...int('champion_version'),
    ...ts('decided_at', 'retired_at'),
    ...text('position'),
  ],
};

/** One row per shop: the live model and the last training's outcome (what the card says when there is none). */
export const MODEL_STATUS: TableSpec = {
  name: 'model_status',
  key: ['shop_id'],
  columns: [
    ...text('shop_id'),
    ...int('live_version'),
    ...text('live_scope', 'last_outcome'),
    ...ts('last_at'),
    ...int('outcomes', 'pooled_outcomes', 'outcomes_needed', 'failures'),
    ...text('last_error'),
    ...ts('last_failed_at'),
    ...text('position'),
  ],
};

/** RFC 0016: experiments. */
export const EXPERIMENTS: TableSpec = {
  name: 'experiments',
  key: ['shop_id', 'experiment_id'],
  columns: [
    ...text('shop_id'),
    ...text('experiment_id'),
    ...text('sequence_id'),
    ...int('sequence_version'),
    ...int('step'),
    ...text('segment'),
    ...text('status'),
    ...text('close_reason'),
    c('variants', 'text[]'),
    ...text('adopted_variant_id'),
    ...num('adopted_probability_best'),
    ...int('adopted_samples'),
    ...num('adopt_threshold'),
    ...ts('opened_at'),
    ...ts('adopted_at'),
    ...ts('closed_at'),
    ...int('evaluations'),
    ...ts('last_evaluated_at'),
    ...text('position'),
  ],
};

/** RFC 0016: experiment arms. */
export const EXPERIMENT_ARMS: TableSpec = {
  name: 'experiment_arms',
  key: ['shop_id', 'experiment_id', 'variant_id'],
  columns: [
    ...text('shop_id'),
    ...text('experiment_id'),
    ...text('variant_id'),
    ...text('status'),
    ...int('assignments'),
    ...int('settled'),
    ...int('recovered'),
    ...num('net_revenue'),
    ...num('discount_cost'),
    ...int('messages'),
    ...int('unsubscribes'),
    ...int('complaints'),
    ...num('posterior_recovery_rate'),
    ...num('posterior_value_mean'),
    ...num('posterior_mean_reward'),
    ...num('probability_best'),
    ...text('stopped_guardrail'),
    ...num('stopped_rate'),
    ...ts('stopped_at'),
    ...ts('evaluated_at'),
    ...text('position'),
  ],
};

/** RFC 0016: variant assignments. */
export const VARIANT_ASSIGNMENTS: TableSpec = {
  name: 'variant_assignments',
  key: ['recovery_id', 'step'],
  columns: [
    ...text('recovery_id'),
    ...int('step'),
    ...text('shop_id'),
    ...text('experiment_id'),
    ...text('variant_id'),
    ...text('segment'),
    ...text('mode'),
    ...text('arm'),
    ...num('propensity'),
    ...int('settled_draws'),
    ...ts('decided_at'),
    ...text('overrides'),
    ...text('position'),
  ],
};

/** RFC 0017: one row per recovery's incentive choice, its outcome and net revenue. */
export const INCENTIVE_ASSIGNMENTS: TableSpec = {
  name: 'incentive_assignments',
  key: ['recovery_id'],
  columns: [
    ...text('recovery_id'),
    ...text('shop_id'),
    ...int('step'),
    ...text('segment'),
    ...int('level'),
    ...text('mode'),
    ...num('propensity'),
    c('levels', 'integer[]'),
    ...text('expected_profits'),
    ...text('reason'),
    ...ts('chosen_at'),
    ...int('sent_discount_percent'),
    ...ts('ended_at'),
    ...text('end_reason'),
    ...text('outcome'),
    ...int('orders'),
    ...num('revenue'),
    ...num('discount_cost'),
    ...num('net_revenue'),
    ...text('position'),
  ],
};

/** RFC 0017: every step that went out without the discount it defines. */
export const DISCOUNTS_WITHHELD: TableSpec = {
  name: 'discounts_withheld',
  key: ['recovery_id', 'step'],
  columns: [
    ...text('recovery_id'),
    ...int('step'),
    ...text('shop_id'),
    ...text('reason'),
    ...int('percent'),
    ...text('detail'),
    ...ts('withheld_at'),
    ...text('position'),
  ],
};

/** RFC 0017: customers detected farming recovery codes. */
export const CODE_FARMERS: TableSpec = {
  name: 'code_farmers',
  key: ['shop_id', 'customer_key'],
  columns: [
    ...text('shop_id'),
    ...text('customer_key'),
    ...ts('first_detected_at'),
    ...ts('detected_at'),
    ...int('detections'),
    ...int('code_purchases'),
    ...int('orders'),
    ...num('code_order_share'),
    ...num('window_days'),
    ...text('position'),
  ],
};

export const ALL_TABLES: readonly TableSpec[] = [
  CARTS,
  CUSTOMERS,
  CUSTOMER_CONTACTS,
  RECOVERIES,
  MESSAGES,
  SEGMENTS,
  SCORES,
  ORDERS,
  ATTRIBUTION,
  DAILY_FUNNEL,
  MODELS,
  MODEL_STATUS,
  EXPERIMENTS,
  EXPERIMENT_ARMS,
  VARIANT_ASSIGNMENTS,
  INCENTIVE_ASSIGNMENTS,
  DISCOUNTS_WITHHELD,
  CODE_FARMERS,
];

export function qualified(spec: TableSpec): string {
  return `${READ_SCHEMA}.${spec.name}`;
}
