import { createHmac, timingSafeEqual } from 'node:crypto';
import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describeProviderError } from '@reclaim/ports';
import type { SupportTicketUpdates } from '@reclaim/application';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';

const TICKET_ID = /^\d{1,20}$/;

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `base64(HMAC-SHA256(secret, timestamp + body))`, compared in constant time (Zendesk webhook signing). */
export function verifyZendeskSignature(secret: string, timestamp: string, body: Buffer, signature: string): boolean {
  const expected = createHmac('sha256', secret).update(timestamp).update(body).digest('base64');
  return sameSecret(expected, signature);
}

type Parsed = { ok: true; value: Record<string, unknown> } | { ok: false };

function jsonObject(req: FastifyRequest): Parsed {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? { ok: true, value: value as Record<string, unknown> }
      : { ok: false };
  } catch {
    return { ok: false };
  }
}

const badField = (field: string, message: string) => ({
  statusCode: 400,
  error: 'Bad Request',
  message: [`${field}: ${message}`],
  errors: [{ field, message }],
});

/**
 * Help-desk ticket webhooks (support-aware copy). The body names a ticket; the appliance asks the
 * desk who its requester is and which of their tickets are open, and records the answer on that
 * customer's running recoveries (help copy or a pause while a ticket about the cart is open, sales
 * copy or a resume when it closes). Without the desk configured as TICKET_PROVIDER and its webhook
 * secret the route answers 404; a bad signature or secret 401; a bad body 400 naming the field;
 * a desk that cannot be asked right now 503 (the desk retries).
 *
 * - `POST /webhooks/zendesk/tickets`: an event-subscribed webhook (`zen:event-type:ticket.*`),
 *   signed with `X-Zendesk-Webhook-Signature` = base64 HMAC-SHA256 of
 *   `X-Zendesk-Webhook-Signature-Timestamp` + body with ZENDESK_WEBHOOK_SECRET.
 * - `POST /webhooks/gorgias/tickets`: a Gorgias HTTP integration (ticket created, ticket updated),
 *   body `{"ticket_id": "{{ticket.id}}"}`, header `X-Reclaim-Secret` = GORGIAS_WEBHOOK_SECRET.
 *
 * Logs carry the desk and counts only: never an address or a ticket's words.
 */
@ApiTags('webhooks')
@ApiConsumes('application/json')
@ApiResponse({ status: 200, description: 'applied: `{ recoveries }` running recoveries recorded the lookup' })
@ApiResponse({ status: 400, description: 'bad body; the answer names the field' })
@ApiResponse({ status: 401, description: 'bad or missing signature / secret' })
@ApiResponse({ status: 404, description: 'this desk is not the ticket provider, or its webhook secret is not set' })
@ApiResponse({ status: 503, description: 'the desk could not be asked; retry' })
@Controller('webhooks')
export class SupportWebhooksController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  private get log() {
    return this.runtime.log.child({ component: 'support-webhooks' });
  }

  private updates(desk: 'zendesk' | 'gorgias'): SupportTicketUpdates | undefined {
    const updates = this.runtime.engine.supportTickets;
    return updates?.desk === desk ? updates : undefined;
  }

  @ApiOperation({ summary: 'Zendesk ticket event (event-subscribed webhook: ticket created, status changed, …)' })
  @ApiHeader({ name: 'X-Zendesk-Webhook-Signature', required: true })
  @ApiHeader({ name: 'X-Zendesk-Webhook-Signature-Timestamp', required: true })
  @Post('zendesk/tickets')
  async zendesk(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const secret = this.runtime.config.ZENDESK_WEBHOOK_SECRET;
    const updates = this.updates('zendesk');
    if (secret === undefined || updates === undefined) {
      await reply.status(404).send({ error: 'Zendesk ticket webhooks are not configured' });
      return;
    }
    const signature = headerOf(req, 'x-zendesk-webhook-signature');
    const timestamp = headerOf(req, 'x-zendesk-webhook-signature-timestamp');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (
      signature === undefined ||
      timestamp === undefined ||
      !verifyZendeskSignature(secret, timestamp, body, signature)
    ) {
      this.log.warn({ desk: 'zendesk' }, 'help-desk webhook refused: bad signature');
      await reply.status(401).send({ error: 'invalid signature' });
      return;
    }
    const parsed = jsonObject(req);
    if (!parsed.ok) {
      await reply.status(400).send(badField('(body)', 'must be a JSON object'));
      return;
    }
    const event = parsed.value;
    if (typeof event.type !== 'string' || event.type === '') {
      await reply.status(400).send(badField('type', 'must be the event type, e.g. zen:event-type:ticket.created'));
      return;
    }
    if (!event.type.startsWith('zen:event-type:ticket.')) {
      await reply.status(204).send(); // another subscribed event (user, organization): nothing to do
      return;
    }
    const detail = event.detail;
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      await reply.status(400).send(badField('detail', 'must be the ticket object'));
      return;
    }
    const id = (detail as { id?: unknown }).id;
    const ticketId = typeof id === 'number' ? String(id) : id;
    if (typeof ticketId !== 'string' || !TICKET_ID.test(ticketId)) {
      await reply.status(400).send(badField('detail.id', 'must be the ticket id'));
      return;
    }
    const eventId = typeof event.id === 'string' && event.id !== '' ? event.id : `${ticketId}:${timestamp}`;
    await this.apply(updates, ticketId, eventId, reply);
  }

  @ApiOperation({ summary: 'Gorgias HTTP integration call (ticket created, ticket updated)' })
  @ApiHeader({ name: 'X-Reclaim-Secret', required: true, description: 'GORGIAS_WEBHOOK_SECRET' })
  @Post('gorgias/tickets')
  async gorgias(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const secret = this.runtime.config.GORGIAS_WEBHOOK_SECRET;
    const updates = this.updates('gorgias');
    if (secret === undefined || updates === undefined) {
      await reply.status(404).send({ error: 'Gorgias ticket webhooks are not configured' });
      return;
    }
    const given = headerOf(req, 'x-reclaim-secret');
    if (given === undefined || !sameSecret(given, secret)) {
      this.log.warn({ desk: 'gorgias' }, 'help-desk webhook refused: bad secret');
      await reply.status(401).send({ error: 'invalid secret' });
      return;
    }
    const parsed = jsonObject(req);
    if (!parsed.ok) {
      await reply.status(400).send(badField('(body)', 'must be a JSON object'));
      return;
    }
    const id = parsed.value.ticket_id;
    const ticketId = typeof id === 'number' ? String(id) : id;
    if (typeof ticketId !== 'string' || !TICKET_ID.test(ticketId)) {
      await reply.status(400).send(badField('ticket_id', 'must be the ticket id ({{ticket.id}})'));
      return;
    }
    await this.apply(updates, ticketId, `${ticketId}:${this.runtime.clock().toISOString()}`, reply);
  }

  private async apply(
    updates: SupportTicketUpdates,
    ticketId: string,
    eventId: string,
    reply: FastifyReply,
  ): Promise<void> {
    try {
      const result = await updates.ticketChanged(ticketId, eventId);
      if (result.lookupFailed) {
        await reply.status(503).send({ error: 'the help desk could not list the tickets; retry' });
        return;
      }
      await reply.status(200).send({ outcome: result.outcome, recoveries: result.recoveries });
    } catch (err) {
      this.log.warn({ desk: updates.desk, error: describeProviderError(err) }, 'help-desk webhook: desk not reachable');
      await reply.status(503).send({ error: 'the help desk could not be asked; retry' });
    }
  }
}
