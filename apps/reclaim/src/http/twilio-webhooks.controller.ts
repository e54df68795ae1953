import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiHeader, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { loadRecovery } from '@reclaim/application';
import { parseRecoveryId, type DeliveryStatus } from '@reclaim/domain';
import { parseFormParams, parseInboundSms, verifyTwilioSignature, type TwilioParams } from '@reclaim/providers';
import type { Runtime } from '../runtime/runtime';
import { RUNTIME } from '../runtime/runtime.token';

const E164 = /^\+[1-9]\d{6,14}$/;
const TWIML = 'text/xml; charset=utf-8';
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
/** The single confirmation for a STOP-family reply Twilio did not confirm itself (R26). */
const OPT_OUT_TWIML =
  '<?xml version="1.0" encoding="UTF-8"?><Response><Message>' +
  'You are unsubscribed from cart reminder texts. No more messages will be sent.' +
  '</Message></Response>';

/** Twilio's final message statuses, as recorded on the recovery (`recovery.delivery-reported`). */
const FINAL_STATUSES: ReadonlyMap<string, DeliveryStatus> = new Map([
  ['delivered', 'delivered'],
  ['undelivered', 'undelivered'],
  ['failed', 'failed'],
]);

/**
 * Twilio's webhooks (R26), both form-encoded and signed with `X-Twilio-Signature` over the public
 * URL (PUBLIC_URL + path and query, as Twilio called it) and the form parameters; a bad or missing
 * signature answers 403, and without Twilio configured the routes answer 404.
 *
 * - `POST /webhooks/twilio/status`: delivery status of a message we sent (the idempotency key is in
 *   the query, `reclaim_key`); recorded by the Twilio adapter for reconciliation, and a final status
 *   (delivered, undelivered, failed) on the recovery as `recovery.delivery-reported` — held until the
 *   send is recorded when the callback beats it. A message refused as opted out (21610) records the
 *   SMS opt-out of the recovery's customer.
 * - `POST /webhooks/twilio/inbound`: a reply. Any other answer than a keyword is recorded as
 *   engagement (`recovery.message-replied`) on the latest recovery SMS the number received.
 *   A STOP-family reply records the SMS opt-out on every
 *   customer the number was texted for; when Twilio did not confirm it (not one of its default
 *   keywords), the answer is one confirmation in TwiML, only when the opt-out is new (a repeated
 *   webhook, or another STOP, is answered with empty TwiML).
 *
 * Logs carry the status, error code and counts only: never a phone number or a message body.
 */

@ApiTags('webhooks')
@ApiHeader({
  name: 'X-Twilio-Signature',
  required: true,
  description:
    'base64 HMAC-SHA1 with TWILIO_AUTH_TOKEN over PUBLIC_URL + path + query followed by every form parameter name and value, sorted by name',
})
@ApiConsumes('application/x-www-form-urlencoded')
@ApiResponse({ status: 403, description: 'bad or missing X-Twilio-Signature' })
@ApiResponse({ status: 404, description: 'Twilio is not configured (no TWILIO_ACCOUNT_SID)' })
@ApiResponse({ status: 415, description: 'not form-encoded' })
@Controller('webhooks/twilio')
export class TwilioWebhooksController {
  constructor(@Inject(RUNTIME) private readonly runtime: Runtime) {}

  private get log() {
    return this.runtime.log.child({ component: 'twilio-webhooks' });
  }

  private signed(req: FastifyRequest): { params: TwilioParams; url: string; signature: string | undefined } {
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const header = req.headers['x-twilio-signature'];
    return {
      params: parseFormParams(body),
      url: `${this.runtime.config.publicUrl}${req.url}`,
      signature: Array.isArray(header) ? header[0] : header,
    };
  }

  private isForm(req: FastifyRequest): boolean {
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    return type === 'application/x-www-form-urlencoded';
  }

  @ApiOperation({
    summary: 'Twilio delivery status callback of an SMS we sent (StatusCallback; our idempotency key in reclaim_key)',
    description:
      'Form fields as Twilio sends them, e.g. `MessageSid=SM…&MessageStatus=delivered&ErrorCode=`. A 21610 error (recipient opted out) records the SMS opt-out of the customer.',
  })
  @ApiQuery({ name: 'reclaim_key', required: false, description: 'the idempotency key of the send' })
  @ApiResponse({ status: 200, description: 'recorded' })
  @Post('status')
  async status(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const twilio = this.runtime.engine.providers.twilio;
    if (!twilio) {
      await reply.status(404).send({ error: 'Twilio is not configured' });
      return;
    }
    if (!this.isForm(req)) {
      await reply.status(415).send({ error: 'form-encoded body expected' });
      return;
    }
    const { params, url, signature } = this.signed(req);
    const result = await twilio.handleStatusCallback(url, params, signature);
    if (!result.valid) {
      this.log.warn({ route: 'status' }, 'Twilio webhook refused: bad signature');
      await reply.status(403).send({ error: 'invalid signature' });
      return;
    }
    this.log.debug({ status: result.status, errorCode: result.errorCode }, 'SMS delivery status');
    const final = FINAL_STATUSES.get(result.status ?? '');
    if (result.idempotencyKey !== undefined && (final !== undefined || result.errorCode === '21610')) {
      try {
        // On the recovery, or held until the send is recorded (a callback can beat it): never dropped.
        if (final !== undefined) {
          await this.runtime.engine.engagement.recordDeliveryStatus({
            idempotencyKey: result.idempotencyKey,
            status: final,
            ...(result.errorCode ? { errorCode: result.errorCode } : {}),
            at: this.runtime.clock(),
          });
        }
        if (result.errorCode === '21610') await this.optOutRecoveryCustomer(result.idempotencyKey);
      } catch (err) {
        this.log.error(
          { error: err instanceof Error ? err.name : 'Error' },
          'SMS delivery status or opt-out not recorded: 503',
        );
        await reply.status(503).send({ error: 'temporarily unavailable' });
        return;
      }
    }
    await reply.status(204).send();
  }

  @ApiOperation({
    summary: "Inbound SMS reply (the number's messaging webhook): STOP-family replies record the opt-out (R26)",
    description:
      'Form fields as Twilio sends them, e.g. `From=%2B14155550123&To=%2B15550100000&Body=STOP&OptOutType=STOP`. The answer is TwiML: one confirmation when the opt-out is new and Twilio did not confirm it itself, else empty.',
  })
  @ApiProduces('text/xml')
  @ApiResponse({ status: 200, description: 'TwiML' })
  @Post('inbound')
  async inbound(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const authToken = this.runtime.engine.providers.twilioAuthToken;
    if (authToken === undefined) {
      await reply.status(404).send({ error: 'Twilio is not configured' });
      return;
    }
    if (!this.isForm(req)) {
      await reply.status(415).send({ error: 'form-encoded body expected' });
      return;
    }
    const { params, url, signature } = this.signed(req);
    if (!verifyTwilioSignature(authToken, url, params, signature)) {
      this.log.warn({ route: 'inbound' }, 'Twilio webhook refused: bad signature');
      await reply.status(403).send({ error: 'invalid signature' });
      return;
    }
    const sms = parseInboundSms(params);
    if (sms.intent === 'message' && sms.from !== undefined && E164.test(sms.from)) {
      // A real answer (not a keyword): engagement on the recovery SMS it answers (fatigue counts it).
      try {
        const result = await this.runtime.engine.smsReplies.recordReply(sms.from, this.runtime.clock());
        this.log.info({ customers: result.customers, recorded: result.recorded }, 'SMS reply');
      } catch (err) {
        this.log.error({ error: err instanceof Error ? err.name : 'Error' }, 'SMS reply not recorded: 503');
        await reply.status(503).send({ error: 'temporarily unavailable' });
        return;
      }
      await reply.status(200).type(TWIML).send(EMPTY_TWIML);
      return;
    }
    if (sms.intent !== 'opt-out' || sms.from === undefined || !E164.test(sms.from) || !sms.messageSid) {
      await reply.status(200).type(TWIML).send(EMPTY_TWIML);
      return;
    }
    let recorded: number;
    try {
      const result = await this.runtime.engine.smsOptOuts.optOutPhone(
        sms.from,
        this.runtime.clock(),
        sms.confirmationRequired ? 'reclaim:sms-stop-reply' : 'twilio:sms-stop-reply',
        `twilio-inbound:${sms.messageSid}`,
      );
      recorded = result.recorded;
      this.log.info({ customers: result.customers, recorded }, 'SMS opt-out reply');
    } catch (err) {
      // Twilio retries on a 5xx: nothing was confirmed yet.
      this.log.error({ error: err instanceof Error ? err.name : 'Error' }, 'SMS opt-out not recorded: 503');
      await reply.status(503).send({ error: 'temporarily unavailable' });
      return;
    }
    const confirm = sms.confirmationRequired && recorded > 0;
    await reply
      .status(200)
      .type(TWIML)
      .send(confirm ? OPT_OUT_TWIML : EMPTY_TWIML);
  }

  /** `<recoveryId>:step-<n>:sms` → the SMS opt-out on that recovery's customer stream. */
  private async optOutRecoveryCustomer(idempotencyKey: string): Promise<void> {
    const recoveryId = /^(.+):step-\d+:sms$/.exec(idempotencyKey)?.[1];
    const ids = recoveryId !== undefined ? parseRecoveryId(recoveryId) : undefined;
    if (recoveryId === undefined || ids === undefined) return;
    const customerKey = (await loadRecovery(this.runtime.store, recoveryId)).state.cart?.customerKey;
    if (customerKey === undefined) return;
    await this.runtime.engine.smsOptOuts.optOutCustomer({
      shopId: ids.shopId,
      customerKey,
      at: this.runtime.clock(),
      source: 'twilio:21610',
      causationId: `sms-opt-out:${idempotencyKey}`,
    });
  }
}
