/**
 * Default adapters until real providers are configured (the integrations issue brings SMTP,
 * Klaviyo, Twilio, help desks and store APIs):
 *
 * - {@link OutboxChannel}: email goes to `engine.outbox`, so a merchant trying Reclaim sees exactly
 *   what would be sent. The recipient is sealed with the customer's key (crypto-shredded with the
 *   customer), never stored in clear text.
 * - {@link StorelessCommerce}: no stock information (items kept as they are) and no discount codes
 *   (`DiscountUnavailableError`: the message goes out without a code, and the outcome says why).
 *
 * SMS and tickets need no stand-in: a missing SMS provider makes the pre-send checks skip the SMS
 * channel (`channel-unavailable`), a missing ticket provider is recorded as `recovery.ticket-skipped`.
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { AlternativeCandidate, RecoveryItem, SealedValue, StockLine } from '@reclaim/domain';
import {
  DiscountUnavailableError,
  PermanentProviderError,
  type ChannelLookupResult,
  type ChannelMessage,
  type ChannelPort,
  type CommercePort,
  type DiscountCodeRequest,
  type RecoveryShop,
} from '@reclaim/ports';

/** `PersonalDataVault` satisfies it. */
export interface ContactSealer {
  seal(shopId: string, subject: string, value: unknown): Promise<SealedValue>;
  open<T = unknown>(shopId: string, sealed: SealedValue): Promise<T | null>;
}

export interface OutboxEntry {
  readonly messageId: string;
  readonly idempotencyKey: string;
  readonly recoveryId: string;
  readonly step: number;
  readonly channel: string;
  /** Masked (`a***@example.com`); `null` when the customer was redacted (key shredded). */
  readonly recipient: string | null;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

/** `ada@example.com` → `a***@example.com`; a phone keeps its last two digits. */
export function maskRecipient(value: string): string {
  const at = value.lastIndexOf('@');
  if (at > 0) return `${value[0]}***${value.slice(at)}`;
  return value.length > 2 ? `${'*'.repeat(Math.max(3, value.length - 2))}${value.slice(-2)}` : '***';
}

export class OutboxChannel implements ChannelPort {
  constructor(
    private readonly pool: Pool,
    private readonly sealer: ContactSealer,
  ) {}

  async send(message: ChannelMessage): Promise<{ messageId: string }> {
    const context = message.context;
    if (context === undefined || context.customerKey === undefined) {
      throw new PermanentProviderError('the outbox needs the message context', 'no-context');
    }
    const messageId = `outbox-${createHash('sha256').update(message.idempotencyKey).digest('hex').slice(0, 24)}`;
    const recipient = await this.sealer.seal(context.shopId, context.customerKey, message.to);
    // Unique idempotency key: a second send with the same key stores nothing and returns the first id.
    await this.pool.query(
      `INSERT INTO engine.outbox (idempotency_key, message_id, shop_id, recovery_id, step, channel, recipient,
         subject, html, text, headers)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        message.idempotencyKey,
        messageId,
        context.shopId,
        context.recoveryId,
        context.step,
        message.channel,
        JSON.stringify(recipient),
        message.subject ?? '',
        message.html ?? '',
        message.text ?? message.body ?? '',
        JSON.stringify(message.headers ?? {}),
      ],
    );
    return { messageId };
  }

  async lookup(idempotencyKey: string): Promise<ChannelLookupResult> {
    const { rows } = await this.pool.query<{ message_id: string }>(
      'SELECT message_id FROM engine.outbox WHERE idempotency_key = $1',
      [idempotencyKey],
    );
    return rows.length > 0 ? { status: 'sent', messageId: rows[0].message_id } : { status: 'not-sent' };
  }

  /** The shop's outbox, newest first, recipients opened and masked. */
  async list(shopId: string, options: { limit?: number; recoveryId?: string } = {}): Promise<OutboxEntry[]> {
    const { rows } = await this.pool.query<{
      idempotency_key: string;
      message_id: string;
      recovery_id: string;
      step: number;
      channel: string;
      recipient: SealedValue;
      subject: string;
      html: string;
      text: string;
      headers: Record<string, string>;
      created_at: Date;
    }>(
      `SELECT idempotency_key, message_id, recovery_id, step, channel, recipient, subject, html, text, headers, created_at
       FROM engine.outbox WHERE shop_id = $1 AND ($3::text IS NULL OR recovery_id = $3)
       ORDER BY created_at DESC, idempotency_key LIMIT $2`,
      [shopId, Math.min(Math.max(options.limit ?? 50, 1), 500), options.recoveryId ?? null],
    );
    const out: OutboxEntry[] = [];
    for (const r of rows) {
      const opened = await this.sealer.open<string>(shopId, r.recipient).catch(() => null);
      out.push({
        messageId: r.message_id,
        idempotencyKey: r.idempotency_key,
        recoveryId: r.recovery_id,
        step: r.step,
        channel: r.channel,
        recipient: typeof opened === 'string' ? maskRecipient(opened) : null,
        subject: r.subject,
        html: r.html,
        text: r.text,
        headers: r.headers,
        createdAt: r.created_at.toISOString(),
      });
    }
    return out;
  }
}

export class StorelessCommerce implements CommercePort {
  /** No store adapter: no information, so every line is kept as it is. */
  async stock(_shop: RecoveryShop, _items: readonly RecoveryItem[]): Promise<StockLine[]> {
    return [];
  }

  async createDiscountCode(_request: DiscountCodeRequest): Promise<{ code: string }> {
    throw new DiscountUnavailableError('no store adapter configured: discount codes cannot be created');
  }

  /** No store adapter: no line is ever reported sold out, and there is no store to suggest anything. */
  async alternatives(_shop: RecoveryShop, _item: RecoveryItem, _limit: number): Promise<AlternativeCandidate[]> {
    return [];
  }
}
