import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Body handling. Webhook routes get the raw bytes untouched (signatures are computed over them;
 * JSON is parsed later, losslessly). Everything else gets plain JSON. Fastify enforces the body
 * limit from Content-Length before reading and while streaming, so an oversized body is refused
 * with 413 without being buffered (R10).
 */
export function configureBodyParsing(app: NestFastifyApplication, webhookBodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  fastify.removeAllContentTypeParsers();
  // Message links (/u/<token>): RFC 8058 one-click POSTs are form-encoded; the body is ignored (the token is the authority).
  const isWebhook = (req: FastifyRequest) => req.url.startsWith('/webhooks/') || req.url.startsWith('/u/');
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: webhookBodyLimit }, (req, body, done) => {
    if (isWebhook(req)) return done(null, body);
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]
      .trim()
      .toLowerCase();
    if (type !== 'application/json' && !type.endsWith('+json')) {
      const err = Object.assign(new Error(`unsupported content type ${type || '(none)'}; send application/json`), {
        statusCode: 415,
      });
      return done(err, undefined);
    }
    if ((body as Buffer).length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch {
      done(Object.assign(new Error('body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
}

/** The webhook-only Fastify instance (bootstrap.ts): every body as raw bytes, up to the limit. */
export function configureWebhookBodyParsing(fastify: FastifyInstance, webhookBodyLimit: number): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: webhookBodyLimit }, (_req, body, done) =>
    done(null, body),
  );
}
