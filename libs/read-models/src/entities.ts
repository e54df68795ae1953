/**
 * TypeORM entities of the read models (schema `read`), one per table; documentation of every
 * column is in docs/analytics.md. The tables are created by ./migrations (never `synchronize`);
 * `read-models.int.spec.ts` checks that these entities and the migrated schema agree. Money is
 * `numeric` (a decimal string in JavaScript), never a float.
 */
import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { READ_SCHEMA } from './schema';

@Index('carts_shop_activity', ['shopId', 'lastActivityAt'])
@Index('carts_customer', ['shopId', 'customerKey'])
@Entity({ schema: READ_SCHEMA, name: 'carts' })
export class CartEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'cart_id', type: 'text' })
  cartId!: string;
  @Column({ name: 'platform', type: 'text', nullable: true })
  platform!: string | null;
  @Column({ name: 'source', type: 'text', nullable: true })
  source!: string | null;
  @Column({ name: 'customer_key', type: 'text', nullable: true })
  customerKey!: string | null;
  @Column({ name: 'currency', type: 'text', nullable: true })
  currency!: string | null;
  @Column({ name: 'subtotal', type: 'numeric', nullable: true })
  subtotal!: string | null;
  @Column({ name: 'total', type: 'numeric', nullable: true })
  total!: string | null;
  @Column({ name: 'item_count', type: 'integer', nullable: true })
  itemCount!: number | null;
  @Column({ name: 'device', type: 'text', nullable: true })
  device!: string | null;
  @Column({ name: 'status', type: 'text' })
  status!: string;
  @Column({ name: 'reach_email', type: 'boolean', nullable: true })
  reachEmail!: boolean | null;
  @Column({ name: 'reach_sms', type: 'boolean', nullable: true })
  reachSms!: boolean | null;
  @Column({ name: 'first_seen_at', type: 'timestamp with time zone', nullable: true })
  firstSeenAt!: Date | null;
  @Column({ name: 'last_activity_at', type: 'timestamp with time zone', nullable: true })
  lastActivityAt!: Date | null;
  @Column({ name: 'abandoned_by_platform_at', type: 'timestamp with time zone', nullable: true })
  abandonedByPlatformAt!: Date | null;
  @Column({ name: 'checkout_completed_at', type: 'timestamp with time zone', nullable: true })
  checkoutCompletedAt!: Date | null;
  @Column({ name: 'purchased_at', type: 'timestamp with time zone', nullable: true })
  purchasedAt!: Date | null;
  @Column({ name: 'order_id', type: 'text', nullable: true })
  orderId!: string | null;
  @Column({ name: 'deleted_at', type: 'timestamp with time zone', nullable: true })
  deletedAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Entity({ schema: READ_SCHEMA, name: 'customer_contacts' })
export class CustomerContactEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'customer_key', type: 'text' })
  customerKey!: string;
  @Column({ name: 'email_masked', type: 'text', nullable: true })
  emailMasked!: string | null;
  @Column({ name: 'phone_masked', type: 'text', nullable: true })
  phoneMasked!: string | null;
  @Column({ name: 'name_initials', type: 'text', nullable: true })
  nameInitials!: string | null;
  @Column({ name: 'updated_position', type: 'text' })
  updatedPosition!: string;
}

@Entity({ schema: READ_SCHEMA, name: 'customers' })
export class CustomerEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'customer_key', type: 'text' })
  customerKey!: string;
  @Column({ name: 'platform', type: 'text', nullable: true })
  platform!: string | null;
  @Column({ name: 'orders_count', type: 'integer', nullable: true })
  ordersCount!: number | null;
  @Column({ name: 'total_spent', type: 'numeric', nullable: true })
  totalSpent!: string | null;
  @Column({ name: 'currency', type: 'text', nullable: true })
  currency!: string | null;
  @Column({ name: 'reach_email', type: 'boolean', nullable: true })
  reachEmail!: boolean | null;
  @Column({ name: 'reach_sms', type: 'boolean', nullable: true })
  reachSms!: boolean | null;
  @Column({ name: 'email_consent', type: 'text', nullable: true })
  emailConsent!: string | null;
  @Column({ name: 'email_consent_source', type: 'text', nullable: true })
  emailConsentSource!: string | null;
  @Column({ name: 'email_consent_at', type: 'timestamp with time zone', nullable: true })
  emailConsentAt!: Date | null;
  @Column({ name: 'sms_consent', type: 'text', nullable: true })
  smsConsent!: string | null;
  @Column({ name: 'sms_consent_source', type: 'text', nullable: true })
  smsConsentSource!: string | null;
  @Column({ name: 'sms_consent_at', type: 'timestamp with time zone', nullable: true })
  smsConsentAt!: Date | null;
  @Column({ name: 'platform_created_at', type: 'timestamp with time zone', nullable: true })
  platformCreatedAt!: Date | null;
  @Column({ name: 'profile_updated_at', type: 'timestamp with time zone', nullable: true })
  profileUpdatedAt!: Date | null;
  @Column({ name: 'data_requested_at', type: 'timestamp with time zone', nullable: true })
  dataRequestedAt!: Date | null;
  @Column({ name: 'redacted_at', type: 'timestamp with time zone', nullable: true })
  redactedAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Index('recoveries_shop_abandoned', ['shopId', 'firstAbandonedAt'])
@Index('recoveries_customer', ['shopId', 'customerKey'])
@Entity({ schema: READ_SCHEMA, name: 'recoveries' })
export class RecoveryEntity {
  @PrimaryColumn({ name: 'recovery_id', type: 'text' })
  recoveryId!: string;
  @Column({ name: 'shop_id', type: 'text', nullable: true })
  shopId!: string | null;
  @Column({ name: 'cart_id', type: 'text', nullable: true })
  cartId!: string | null;
  @Column({ name: 'customer_key', type: 'text', nullable: true })
  customerKey!: string | null;
  @Column({ name: 'status', type: 'text' })
  status!: string;
  @Column({ name: 'paused', type: 'boolean' })
  paused!: boolean;
  @Column({ name: 'cart_value', type: 'numeric', nullable: true })
  cartValue!: string | null;
  @Column({ name: 'currency', type: 'text', nullable: true })
  currency!: string | null;
  @Column({ name: 'item_count', type: 'integer', nullable: true })
  itemCount!: number | null;
  @Column({ name: 'device', type: 'text', nullable: true })
  device!: string | null;
  @Column({ name: 'first_activity_at', type: 'timestamp with time zone', nullable: true })
  firstActivityAt!: Date | null;
  @Column({ name: 'last_activity_at', type: 'timestamp with time zone', nullable: true })
  lastActivityAt!: Date | null;
  @Column({ name: 'first_abandoned_at', type: 'timestamp with time zone', nullable: true })
  firstAbandonedAt!: Date | null;
  @Column({ name: 'abandoned_at', type: 'timestamp with time zone', nullable: true })
  abandonedAt!: Date | null;
  @Column({ name: 'abandon_source', type: 'text', nullable: true })
  abandonSource!: string | null;
  @Column({ name: 'times_abandoned', type: 'integer' })
  timesAbandoned!: number;
  @Column({ name: 'shop_time_zone', type: 'text', nullable: true })
  shopTimeZone!: string | null;
  @Column({ name: 'holdout', type: 'boolean' })
  holdout!: boolean;
  @Column({ name: 'mode', type: 'text', nullable: true })
  mode!: string | null;
  @Column({ name: 'mode_reason', type: 'text', nullable: true })
  modeReason!: string | null;
  /** holdout, live-treated, shadow or outside-rollout (null before the recovery starts). */
  @Column({ name: 'arm', type: 'text', nullable: true })
  arm!: string | null;
  /** Send-time optimisation's arm (`on` | `off`, RFC 0012) and its probability; null when not assigned. */
  @Column({ name: 'send_time_arm', type: 'text', nullable: true })
  sendTimeArm!: string | null;
  @Column({ name: 'send_time_propensity', type: 'numeric', nullable: true })
  sendTimePropensity!: string | null;
  /** The policy control arm (`fixed-rules` | `shop-policy`, RFC 0021) and its probability; null when none was drawn. */
  @Column({ name: 'policy_arm', type: 'text', nullable: true })
  policyArm!: string | null;
  @Column({ name: 'policy_arm_propensity', type: 'numeric', nullable: true })
  policyArmPropensity!: string | null;
  /** Routing by score: the band (`personal`, `short`, `nurture`, `middle`, `unscored`, `off`) and the score it rests on. */
  @Column({ name: 'routing_band', type: 'text', nullable: true })
  routingBand!: string | null;
  @Column({ name: 'routing_score', type: 'numeric', nullable: true })
  routingScore!: string | null;
  @Column({ name: 'segments', type: 'text', array: true })
  segments!: string[];
  @Column({ name: 'sequence_id', type: 'text', nullable: true })
  sequenceId!: string | null;
  @Column({ name: 'sequence_version', type: 'integer', nullable: true })
  sequenceVersion!: number | null;
  @Column({ name: 'catalogue_version', type: 'integer', nullable: true })
  catalogueVersion!: number | null;
  @Column({ name: 'step_count', type: 'integer', nullable: true })
  stepCount!: number | null;
  @Column({ name: 'messages_sent', type: 'integer' })
  messagesSent!: number;
  @Column({ name: 'ticket', type: 'text', nullable: true })
  ticket!: string | null;
  @Column({ name: 'ended_at', type: 'timestamp with time zone', nullable: true })
  endedAt!: Date | null;
  @Column({ name: 'outcome', type: 'text', nullable: true })
  outcome!: string | null;
  @Column({ name: 'order_id', type: 'text', nullable: true })
  orderId!: string | null;
  @Column({ name: 'recovered', type: 'boolean' })
  recovered!: boolean;
  @Column({ name: 'recovered_at', type: 'timestamp with time zone', nullable: true })
  recoveredAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Index('messages_shop_sent', ['shopId', 'sentAt'])
@Index('messages_blocked', ['shopId', 'blockedSince'])
@Entity({ schema: READ_SCHEMA, name: 'messages' })
export class MessageEntity {
  @PrimaryColumn({ name: 'recovery_id', type: 'text' })
  recoveryId!: string;
  @PrimaryColumn({ name: 'step', type: 'integer' })
  step!: number;
  @Column({ name: 'shop_id', type: 'text', nullable: true })
  shopId!: string | null;
  @Column({ name: 'channel', type: 'text', nullable: true })
  channel!: string | null;
  @Column({ name: 'status', type: 'text' })
  status!: string;
  @Column({ name: 'reason', type: 'text', nullable: true })
  reason!: string | null;
  @Column({ name: 'mode', type: 'text', nullable: true })
  mode!: string | null;
  @Column({ name: 'attempts', type: 'integer' })
  attempts!: number;
  @Column({ name: 'deferrals', type: 'integer' })
  deferrals!: number;
  @Column({ name: 'due_at', type: 'timestamp with time zone', nullable: true })
  dueAt!: Date | null;
  @Column({ name: 'deferred_until', type: 'timestamp with time zone', nullable: true })
  deferredUntil!: Date | null;
  @Column({ name: 'template_kind', type: 'text', nullable: true })
  templateKind!: string | null;
  @Column({ name: 'template_id', type: 'text', nullable: true })
  templateId!: string | null;
  @Column({ name: 'discount_percent', type: 'numeric', nullable: true })
  discountPercent!: string | null;
  @Column({ name: 'discount_code', type: 'text', nullable: true })
  discountCode!: string | null;
  @Column({ name: 'discount_withheld', type: 'text', nullable: true })
  discountWithheld!: string | null;
  @Column({ name: 'would_send', type: 'boolean', nullable: true })
  wouldSend!: boolean | null;
  @Column({ name: 'reconciled', type: 'boolean', nullable: true })
  reconciled!: boolean | null;
  @Column({ name: 'message_id', type: 'text', nullable: true })
  messageId!: string | null;
  @Column({ name: 'channels_skipped', type: 'text', array: true, nullable: true })
  channelsSkipped!: string[] | null;
  @Column({ name: 'cart_value', type: 'numeric', nullable: true })
  cartValue!: string | null;
  @Column({ name: 'item_count', type: 'integer', nullable: true })
  itemCount!: number | null;
  @Column({ name: 'sent_at', type: 'timestamp with time zone', nullable: true })
  sentAt!: Date | null;
  @Column({ name: 'outcome_at', type: 'timestamp with time zone', nullable: true })
  outcomeAt!: Date | null;
  @Column({ name: 'opened_at', type: 'timestamp with time zone', nullable: true })
  openedAt!: Date | null;
  @Column({ name: 'clicked_at', type: 'timestamp with time zone', nullable: true })
  clickedAt!: Date | null;
  @Column({ name: 'unsubscribed_at', type: 'timestamp with time zone', nullable: true })
  unsubscribedAt!: Date | null;
  @Column({ name: 'click_host', type: 'text', nullable: true })
  clickHost!: string | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
  @Column({ name: 'blocked_since', type: 'timestamp with time zone', nullable: true })
  blockedSince!: Date | null;
  @Column({ name: 'detail', type: 'text', nullable: true })
  detail!: string | null;
  /** `step` (a sequence step) or `back-in-stock` (numbered 1000 + watch). */
  @Column({ name: 'kind', type: 'text', default: 'step' })
  kind!: string;
  /** Back-in-stock: the sold-out cart line it is about. */
  @Column({ name: 'line_id', type: 'text', nullable: true })
  lineId!: string | null;
}

@Index('segments_shop_segment', ['shopId', 'segment'])
@Entity({ schema: READ_SCHEMA, name: 'segments' })
export class SegmentEntity {
  @PrimaryColumn({ name: 'recovery_id', type: 'text' })
  recoveryId!: string;
  @PrimaryColumn({ name: 'segment', type: 'text' })
  segment!: string;
  @Column({ name: 'shop_id', type: 'text', nullable: true })
  shopId!: string | null;
  @Column({ name: 'abandoned_at', type: 'timestamp with time zone', nullable: true })
  abandonedAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Entity({ schema: READ_SCHEMA, name: 'scores' })
export class ScoreEntity {
  @PrimaryColumn({ name: 'recovery_id', type: 'text' })
  recoveryId!: string;
  @Column({ name: 'shop_id', type: 'text', nullable: true })
  shopId!: string | null;
  @Column({ name: 'orders_count', type: 'integer', nullable: true })
  ordersCount!: number | null;
  @Column({ name: 'total_spent', type: 'numeric', nullable: true })
  totalSpent!: string | null;
  @Column({ name: 'last_purchase_at', type: 'timestamp with time zone', nullable: true })
  lastPurchaseAt!: Date | null;
  @Column({ name: 'previous_abandonments', type: 'integer', nullable: true })
  previousAbandonments!: number | null;
  @Column({ name: 'previous_recoveries', type: 'integer', nullable: true })
  previousRecoveries!: number | null;
  @Column({ name: 'discount_orders_count', type: 'integer', nullable: true })
  discountOrdersCount!: number | null;
  @Column({ name: 'categories_bought', type: 'integer', nullable: true })
  categoriesBought!: number | null;
  @Column({ name: 'ignored_recovery_messages', type: 'integer', nullable: true })
  ignoredRecoveryMessages!: number | null;
  @Column({ name: 'cart_value', type: 'numeric', nullable: true })
  cartValue!: string | null;
  @Column({ name: 'item_count', type: 'integer', nullable: true })
  itemCount!: number | null;
  @Column({ name: 'cart_categories', type: 'text', array: true, nullable: true })
  cartCategories!: string[] | null;
  @Column({ name: 'device', type: 'text', nullable: true })
  device!: string | null;
  @Column({ name: 'traffic_source', type: 'text', nullable: true })
  trafficSource!: string | null;
  @Column({ name: 'hour_of_day', type: 'integer', nullable: true })
  hourOfDay!: number | null;
  @Column({ name: 'checkout_stage', type: 'text', nullable: true })
  checkoutStage!: string | null;
  @Column({ name: 'score', type: 'numeric', nullable: true })
  score!: string | null;
  @Column({ name: 'scored_by', type: 'text', nullable: true })
  scoredBy!: string | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Index('orders_customer', ['shopId', 'customerKey', 'placedAt'])
@Entity({ schema: READ_SCHEMA, name: 'orders' })
export class OrderEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'order_id', type: 'text' })
  orderId!: string;
  @Column({ name: 'customer_key', type: 'text', nullable: true })
  customerKey!: string | null;
  @Column({ name: 'currency', type: 'text', nullable: true })
  currency!: string | null;
  @Column({ name: 'total', type: 'numeric', nullable: true })
  total!: string | null;
  @Column({ name: 'subtotal', type: 'numeric', nullable: true })
  subtotal!: string | null;
  @Column({ name: 'total_discounts', type: 'numeric', nullable: true })
  totalDiscounts!: string | null;
  @Column({ name: 'discount_codes', type: 'integer', nullable: true })
  discountCodes!: number | null;
  @Column({ name: 'cart_ids', type: 'text', array: true, nullable: true })
  cartIds!: string[] | null;
  @Column({ name: 'placed_at', type: 'timestamp with time zone', nullable: true })
  placedAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Index('attribution_recovery', ['recoveryId'])
@Entity({ schema: READ_SCHEMA, name: 'attribution' })
export class AttributionEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'order_id', type: 'text' })
  orderId!: string;
  @Column({ name: 'recovery_id', type: 'text', nullable: true })
  recoveryId!: string | null;
  @Column({ name: 'step', type: 'integer', nullable: true })
  step!: number | null;
  @Column({ name: 'channel', type: 'text', nullable: true })
  channel!: string | null;
  @Column({ name: 'message_id', type: 'text', nullable: true })
  messageId!: string | null;
  @Column({ name: 'clicked_at', type: 'timestamp with time zone', nullable: true })
  clickedAt!: Date | null;
  @Column({ name: 'placed_at', type: 'timestamp with time zone', nullable: true })
  placedAt!: Date | null;
  @Column({ name: 'revenue', type: 'numeric' })
  revenue!: string;
  @Column({ name: 'currency', type: 'text', nullable: true })
  currency!: string | null;
  @Column({ name: 'discount_code', type: 'text', nullable: true })
  discountCode!: string | null;
  @Column({ name: 'discount_used', type: 'boolean' })
  discountUsed!: boolean;
  @Column({ name: 'discount_cost', type: 'numeric' })
  discountCost!: string;
  @Column({ name: 'rule', type: 'text' })
  rule!: string;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Entity({ schema: READ_SCHEMA, name: 'daily_funnel' })
export class DailyFunnelRowEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'day', type: 'date' })
  day!: string;
  @PrimaryColumn({ name: 'segment', type: 'text' })
  segment!: string;
  @PrimaryColumn({ name: 'sequence_id', type: 'text' })
  sequenceId!: string;
  @PrimaryColumn({ name: 'arm', type: 'text' })
  arm!: string;
  @PrimaryColumn({ name: 'step', type: 'integer' })
  step!: number;
  @PrimaryColumn({ name: 'channel', type: 'text' })
  channel!: string;
  @Column({ name: 'abandoned', type: 'integer' })
  abandoned!: number;
  @Column({ name: 'messaged', type: 'integer' })
  messaged!: number;
  @Column({ name: 'opened', type: 'integer' })
  opened!: number;
  @Column({ name: 'clicked', type: 'integer' })
  clicked!: number;
  @Column({ name: 'recovered', type: 'integer' })
  recovered!: number;
  @Column({ name: 'revenue', type: 'numeric' })
  revenue!: string;
  @Column({ name: 'discount_cost', type: 'numeric' })
  discountCost!: string;
  @Column({ name: 'currency', type: 'text', nullable: true })
  currency!: string | null;
}

@Entity({ schema: READ_SCHEMA, name: 'models' })
export class ModelEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'version', type: 'integer' })
  version!: number;
  @Column({ name: 'scope', type: 'text', nullable: true })
  scope!: string | null;
  @Column({ name: 'status', type: 'text', nullable: true })
  status!: string | null;
  @Column({ name: 'trigger', type: 'text', nullable: true })
  trigger!: string | null;
  @Column({ name: 'trained_at', type: 'timestamp with time zone', nullable: true })
  trainedAt!: Date | null;
  @Column({ name: 'training_from', type: 'timestamp with time zone', nullable: true })
  trainingFrom!: Date | null;
  @Column({ name: 'training_to', type: 'timestamp with time zone', nullable: true })
  trainingTo!: Date | null;
  @Column({ name: 'label_window_ms', type: 'numeric', nullable: true })
  labelWindowMs!: string | null;
  @Column({ name: 'rows', type: 'integer', nullable: true })
  rows!: number | null;
  @Column({ name: 'positives', type: 'integer', nullable: true })
  positives!: number | null;
  @Column({ name: 'validation_rows', type: 'integer', nullable: true })
  validationRows!: number | null;
  @Column({ name: 'validation_positives', type: 'integer', nullable: true })
  validationPositives!: number | null;
  @Column({ name: 'validation_from', type: 'timestamp with time zone', nullable: true })
  validationFrom!: Date | null;
  @Column({ name: 'validation_to', type: 'timestamp with time zone', nullable: true })
  validationTo!: Date | null;
  @Column({ name: 'auc', type: 'numeric', nullable: true })
  auc!: string | null;
  @Column({ name: 'brier', type: 'numeric', nullable: true })
  brier!: string | null;
  @Column({ name: 'ece', type: 'numeric', nullable: true })
  ece!: string | null;
  /** JSON: [{ lower, upper, count, meanPredicted, observedRate }] × 10. */
  @Column({ name: 'reliability', type: 'text', nullable: true })
  reliability!: string | null;
  /** JSON: [{ feature, weight }], largest standardised weight first. */
  @Column({ name: 'top_features', type: 'text', nullable: true })
  topFeatures!: string | null;
  @Column({ name: 'content_hash', type: 'text', nullable: true })
  contentHash!: string | null;
  @Column({ name: 'decision_reason', type: 'text', nullable: true })
  decisionReason!: string | null;
  @Column({ name: 'champion_auc', type: 'numeric', nullable: true })
  championAuc!: string | null;
  @Column({ name: 'champion_brier', type: 'numeric', nullable: true })
  championBrier!: string | null;
  @Column({ name: 'champion_version', type: 'integer', nullable: true })
  championVersion!: number | null;
  @Column({ name: 'decided_at', type: 'timestamp with time zone', nullable: true })
  decidedAt!: Date | null;
  @Column({ name: 'retired_at', type: 'timestamp with time zone', nullable: true })
  retiredAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Entity({ schema: READ_SCHEMA, name: 'model_status' })
export class ModelStatusEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @Column({ name: 'live_version', type: 'integer', nullable: true })
  liveVersion!: number | null;
  @Column({ name: 'live_scope', type: 'text', nullable: true })
  liveScope!: string | null;
  @Column({ name: 'last_outcome', type: 'text', nullable: true })
  lastOutcome!: string | null;
  @Column({ name: 'last_at', type: 'timestamp with time zone', nullable: true })
  lastAt!: Date | null;
  @Column({ name: 'outcomes', type: 'integer', nullable: true })
  outcomes!: number | null;
  @Column({ name: 'pooled_outcomes', type: 'integer', nullable: true })
  pooledOutcomes!: number | null;
  @Column({ name: 'outcomes_needed', type: 'integer', nullable: true })
  outcomesNeeded!: number | null;
  @Column({ name: 'failures', type: 'integer', nullable: true })
  failures!: number | null;
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;
  @Column({ name: 'last_failed_at', type: 'timestamp with time zone', nullable: true })
  lastFailedAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Entity({ schema: READ_SCHEMA, name: 'experiments' })
export class ExperimentEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'experiment_id', type: 'text' })
  experimentId!: string;
  @Column({ name: 'sequence_id', type: 'text', nullable: true })
  sequenceId!: string | null;
  @Column({ name: 'sequence_version', type: 'integer', nullable: true })
  sequenceVersion!: number | null;
  @Column({ name: 'step', type: 'integer', nullable: true })
  step!: number | null;
  @Column({ name: 'segment', type: 'text', nullable: true })
  segment!: string | null;
  @Column({ name: 'status', type: 'text', nullable: true })
  status!: string | null;
  @Column({ name: 'close_reason', type: 'text', nullable: true })
  closeReason!: string | null;
  @Column({ name: 'variants', type: 'text', array: true, nullable: true })
  variants!: string[] | null;
  @Column({ name: 'adopted_variant_id', type: 'text', nullable: true })
  adoptedVariantId!: string | null;
  @Column({ name: 'adopted_probability_best', type: 'numeric', nullable: true })
  adoptedProbabilityBest!: string | null;
  @Column({ name: 'adopted_samples', type: 'integer', nullable: true })
  adoptedSamples!: number | null;
  @Column({ name: 'adopt_threshold', type: 'numeric', nullable: true })
  adoptThreshold!: string | null;
  @Column({ name: 'opened_at', type: 'timestamp with time zone', nullable: true })
  openedAt!: Date | null;
  @Column({ name: 'adopted_at', type: 'timestamp with time zone', nullable: true })
  adoptedAt!: Date | null;
  @Column({ name: 'closed_at', type: 'timestamp with time zone', nullable: true })
  closedAt!: Date | null;
  @Column({ name: 'evaluations', type: 'integer', nullable: true })
  evaluations!: number | null;
  @Column({ name: 'last_evaluated_at', type: 'timestamp with time zone', nullable: true })
  lastEvaluatedAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Entity({ schema: READ_SCHEMA, name: 'experiment_arms' })
export class ExperimentArmEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'experiment_id', type: 'text' })
  experimentId!: string;
  @PrimaryColumn({ name: 'variant_id', type: 'text' })
  variantId!: string;
  @Column({ name: 'status', type: 'text', nullable: true })
  status!: string | null;
  @Column({ name: 'assignments', type: 'integer', nullable: true })
  assignments!: number | null;
  @Column({ name: 'settled', type: 'integer', nullable: true })
  settled!: number | null;
  @Column({ name: 'recovered', type: 'integer', nullable: true })
  recovered!: number | null;
  @Column({ name: 'net_revenue', type: 'numeric', nullable: true })
  netRevenue!: string | null;
  @Column({ name: 'discount_cost', type: 'numeric', nullable: true })
  discountCost!: string | null;
  @Column({ name: 'messages', type: 'integer', nullable: true })
  messages!: number | null;
  @Column({ name: 'unsubscribes', type: 'integer', nullable: true })
  unsubscribes!: number | null;
  @Column({ name: 'complaints', type: 'integer', nullable: true })
  complaints!: number | null;
  @Column({ name: 'posterior_recovery_rate', type: 'numeric', nullable: true })
  posteriorRecoveryRate!: string | null;
  @Column({ name: 'posterior_value_mean', type: 'numeric', nullable: true })
  posteriorValueMean!: string | null;
  @Column({ name: 'posterior_mean_reward', type: 'numeric', nullable: true })
  posteriorMeanReward!: string | null;
  @Column({ name: 'probability_best', type: 'numeric', nullable: true })
  probabilityBest!: string | null;
  @Column({ name: 'stopped_guardrail', type: 'text', nullable: true })
  stoppedGuardrail!: string | null;
  @Column({ name: 'stopped_rate', type: 'numeric', nullable: true })
  stoppedRate!: string | null;
  @Column({ name: 'stopped_at', type: 'timestamp with time zone', nullable: true })
  stoppedAt!: Date | null;
  @Column({ name: 'evaluated_at', type: 'timestamp with time zone', nullable: true })
  evaluatedAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Index('variant_assignments_experiment', ['shopId', 'experimentId'])
@Entity({ schema: READ_SCHEMA, name: 'variant_assignments' })
export class VariantAssignmentEntity {
  @PrimaryColumn({ name: 'recovery_id', type: 'text' })
  recoveryId!: string;
  @PrimaryColumn({ name: 'step', type: 'integer' })
  step!: number;
  @Column({ name: 'shop_id', type: 'text', nullable: true })
  shopId!: string | null;
  @Column({ name: 'experiment_id', type: 'text', nullable: true })
  experimentId!: string | null;
  @Column({ name: 'variant_id', type: 'text', nullable: true })
  variantId!: string | null;
  @Column({ name: 'segment', type: 'text', nullable: true })
  segment!: string | null;
  @Column({ name: 'mode', type: 'text', nullable: true })
  mode!: string | null;
  @Column({ name: 'arm', type: 'text', nullable: true })
  arm!: string | null;
  @Column({ name: 'propensity', type: 'numeric', nullable: true })
  propensity!: string | null;
  @Column({ name: 'settled_draws', type: 'integer', nullable: true })
  settledDraws!: number | null;
  @Column({ name: 'decided_at', type: 'timestamp with time zone', nullable: true })
  decidedAt!: Date | null;
  @Column({ name: 'overrides', type: 'text', nullable: true })
  overrides!: string | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Index('incentive_assignments_segment', ['shopId', 'segment', 'level'])
@Entity({ schema: READ_SCHEMA, name: 'incentive_assignments' })
export class IncentiveAssignmentEntity {
  @PrimaryColumn({ name: 'recovery_id', type: 'text' })
  recoveryId!: string;
  @Column({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @Column({ name: 'step', type: 'integer', nullable: true })
  step!: number | null;
  @Column({ name: 'segment', type: 'text', nullable: true })
  segment!: string | null;
  @Column({ name: 'level', type: 'integer', nullable: true })
  level!: number | null;
  @Column({ name: 'mode', type: 'text', nullable: true })
  mode!: string | null;
  @Column({ name: 'propensity', type: 'numeric', nullable: true })
  propensity!: string | null;
  @Column({ name: 'levels', type: 'integer', array: true, nullable: true })
  levels!: number[] | null;
  @Column({ name: 'expected_profits', type: 'text', nullable: true })
  expectedProfits!: string | null;
  @Column({ name: 'reason', type: 'text', nullable: true })
  reason!: string | null;
  @Column({ name: 'chosen_at', type: 'timestamp with time zone', nullable: true })
  chosenAt!: Date | null;
  @Column({ name: 'sent_discount_percent', type: 'integer', nullable: true })
  sentDiscountPercent!: number | null;
  @Column({ name: 'ended_at', type: 'timestamp with time zone', nullable: true })
  endedAt!: Date | null;
  @Column({ name: 'end_reason', type: 'text', nullable: true })
  endReason!: string | null;
  @Column({ name: 'outcome', type: 'text', nullable: true })
  outcome!: string | null;
  @Column({ name: 'orders', type: 'integer', nullable: true })
  orders!: number | null;
  @Column({ name: 'revenue', type: 'numeric', nullable: true })
  revenue!: string | null;
  @Column({ name: 'discount_cost', type: 'numeric', nullable: true })
  discountCost!: string | null;
  @Column({ name: 'net_revenue', type: 'numeric', nullable: true })
  netRevenue!: string | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Index('discounts_withheld_shop', ['shopId', 'reason'])
@Entity({ schema: READ_SCHEMA, name: 'discounts_withheld' })
export class DiscountWithheldEntity {
  @PrimaryColumn({ name: 'recovery_id', type: 'text' })
  recoveryId!: string;
  @PrimaryColumn({ name: 'step', type: 'integer' })
  step!: number;
  @Column({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @Column({ name: 'reason', type: 'text', nullable: true })
  reason!: string | null;
  @Column({ name: 'percent', type: 'integer', nullable: true })
  percent!: number | null;
  @Column({ name: 'detail', type: 'text', nullable: true })
  detail!: string | null;
  @Column({ name: 'withheld_at', type: 'timestamp with time zone', nullable: true })
  withheldAt!: Date | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

@Entity({ schema: READ_SCHEMA, name: 'code_farmers' })
export class CodeFarmerEntity {
  @PrimaryColumn({ name: 'shop_id', type: 'text' })
  shopId!: string;
  @PrimaryColumn({ name: 'customer_key', type: 'text' })
  customerKey!: string;
  @Column({ name: 'first_detected_at', type: 'timestamp with time zone', nullable: true })
  firstDetectedAt!: Date | null;
  @Column({ name: 'detected_at', type: 'timestamp with time zone', nullable: true })
  detectedAt!: Date | null;
  @Column({ name: 'detections', type: 'integer', nullable: true })
  detections!: number | null;
  @Column({ name: 'code_purchases', type: 'integer', nullable: true })
  codePurchases!: number | null;
  @Column({ name: 'orders', type: 'integer', nullable: true })
  orders!: number | null;
  @Column({ name: 'code_order_share', type: 'numeric', nullable: true })
  codeOrderShare!: string | null;
  @Column({ name: 'window_days', type: 'numeric', nullable: true })
  windowDays!: string | null;
  @Column({ name: 'position', type: 'text' })
  position!: string;
}

export const READ_MODEL_ENTITIES = [
  CartEntity,
  CustomerEntity,
  CustomerContactEntity,
  RecoveryEntity,
  MessageEntity,
  SegmentEntity,
  ScoreEntity,
  OrderEntity,
  AttributionEntity,
  DailyFunnelRowEntity,
  ModelEntity,
  ModelStatusEntity,
  ExperimentEntity,
  ExperimentArmEntity,
  VariantAssignmentEntity,
  IncentiveAssignmentEntity,
  DiscountWithheldEntity,
  CodeFarmerEntity,
];
