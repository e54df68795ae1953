import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Platform } from '@reclaim/domain';
import type { ReceiveOutcome, ReceiveWebhook } from '@reclaim/application';
import type { RawWebhook } from '@reclaim/ports';
import type { Runtime } from '../runtime/runtime';

const PLATFORMS: readonly Platform[] = ['shopify', 'bigcommerce', 'woocommerce'];
const STORE_WEBHOOK_PATH =
  /^\/webhooks\/(?:shopify|bigcommerce|woocommerce|woocommerce\/cartflows\/[^/?#]+)\/?(?:\?|$)/;

/** A POST to one of the routes below (the server hands these to the webhook-only Fastify instance). */
export function isStoreWebhook(method: string | undefined, url: string | undefined): boolean {
  return method === 'POST' && url !== undefined && STORE_WEBHOOK_PATH.test(url);
}

/**
 * The webhook endpoints, registered as plain Fastify routes rather than Nest controllers: this is
 * the hot path (thousands of deliveries a second), and Nest's router, interceptors and request
 * middleware cost more than the verification itself (see docs/rfc/0002-webhook-hot-path.md).
 * The work is the same DI-built `ReceiveWebhook` use case.
 *
 * The body arrives as raw bytes (http-setup.ts): signatures are checked on exactly what the
 * platform signed. Every 2xx is given only after the delivery was durably appended; a database
 * failure answers 503 so the platform retries (R1, R6). Refusals are logged without personal
 * data: platform, status and the reason only.
 */
export function registerWebhookRoutes(
  fastify: FastifyInstance,
  deps: { readonly receive: ReceiveWebhook; readonly runtime: Runtime; readonly log: Logger },
): void {
  const log = deps.log.child({ component: 'webhooks' });
  const raw = (req: FastifyRequest): RawWebhook => ({
    headers: req.headers as Record<string, string | undefined>,
    body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    contentType: req.headers['content-type'],
    receivedAt: deps.runtime.clock(),
  });

  async function answer(platform: Platform, reply: FastifyReply, fn: () => Promise<ReceiveOutcome>): Promise<void> {
    let outcome: ReceiveOutcome;
    try {
      outcome = await fn();
    } catch (err) {
      log.error({ platform, error: err instanceof Error ? err.message : String(err) }, 'webhook not recorded: 503');
      await reply.status(503).header('retry-after', '30').send({ error: 'temporarily unavailable, retry later' });
      return;
    }
    if (outcome.status !== 200) {
      log.info(
        { platform, status: outcome.status, reason: outcome.body.error, field: outcome.body.field },
        'webhook refused',
      );
    }
    await reply.status(outcome.status).send(outcome.body);
  }

  /**
   * Errors before the handler (reading the body): over WEBHOOK_BODY_LIMIT → 413 naming the limit
   * (R10); any other client error keeps its 4xx; nothing else may surface as a 5xx but the 503.
   */
  const limit = deps.runtime.config.webhookBodyLimit;
  const errorHandler = (err: FastifyError, _req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const status = err.statusCode ?? 500;
    if (status === 413) {
      return reply.status(413).send({
        error: `body larger than the limit of ${limit} bytes (WEBHOOK_BODY_LIMIT)`,
        field: 'body',
      });
    }
    if (status >= 400 && status < 500) return reply.status(status).send({ error: err.message.slice(0, 200) });
    log.error({ error: err.message }, 'webhook not read: 503');
    return reply.status(503).header('retry-after', '30').send({ error: 'temporarily unavailable, retry later' });
  };

  for (const platform of PLATFORMS) {
    fastify.post(`/webhooks/${platform}`, { errorHandler }, (req, reply) =>
      answer(platform, reply, () => deps.receive.receive(platform, raw(req))),
    );
  }

  // The CartFlows plugin cannot sign: it posts to a per-shop secret URL (only the token's hash is stored).
  fastify.post<{ Params: { token: string } }>(
    '/webhooks/woocommerce/cartflows/:token',
    { errorHandler },
    (req, reply) =>
      answer('woocommerce', reply, () => deps.receive.receiveAtSecretUrl('woocommerce', req.params.token, raw(req))),
  );
}
