import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { ReceiveWebhook } from '@reclaim/application';
import type { FastifyInstance } from 'fastify';
import { configureBodyParsing, configureWebhookBodyParsing } from './http/http-setup';
import { isStoreWebhook, registerWebhookRoutes } from './http/webhook-routes';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { addWebhookPaths } from './http/webhook-openapi';
import { MESSAGE_LINK_MAX_PARAM_LENGTH } from './http/messages';
import type { Runtime } from './runtime/runtime';

const ROUTES = new WeakMap<NestFastifyApplication, { method: string; url: string }[]>();

/** Every route the application registered (method and Fastify URL), for the OpenAPI coverage test. */
export function registeredRoutes(app: NestFastifyApplication): readonly { method: string; url: string }[] {
  return ROUTES.get(app) ?? [];
}

/** Builds the HTTP application on a runtime (used by main.ts and by the end-to-end tests). */
export async function createApp(runtime: Runtime, logger: Logger): Promise<NestFastifyApplication> {
  // The store webhooks (the hot path) are served by a Fastify instance of their own, outside Nest's
  // request pipeline (middleware, hooks); the server hands their POSTs to it (RFC 0002).
  const fast: { webhooks?: FastifyInstance } = {};
  const adapter = new FastifyAdapter({
    bodyLimit: runtime.config.webhookBodyLimit,
    trustProxy: true,
    // Message-link tokens (/u, /t/o, /t/c) are longer than find-my-way's default 100 characters.
    routerOptions: { maxParamLength: MESSAGE_LINK_MAX_PARAM_LENGTH },
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void) =>
      createServer((req, res) =>
        fast.webhooks !== undefined && isStoreWebhook(req.method, req.url)
          ? fast.webhooks.routing(req, res)
          : handler(req, res),
      ),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRuntime(runtime, logger), adapter, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false, // configureBodyParsing owns it: raw bytes for webhooks
  });
  app.useLogger(app.get(PinoNestLogger));
  const routes: { method: string; url: string }[] = [];
  ROUTES.set(app, routes);
  (app.getHttpAdapter().getInstance() as unknown as FastifyInstance).addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  configureBodyParsing(app, runtime.config.webhookBodyLimit);
  const webhookDeps = { receive: app.get(ReceiveWebhook), runtime, log: logger };
  // Also on Nest's instance: listed with the other routes (OpenAPI coverage) and reachable by `inject`.
  registerWebhookRoutes(app.getHttpAdapter().getInstance() as unknown as FastifyInstance, webhookDeps);
  const own = new FastifyAdapter({
    bodyLimit: runtime.config.webhookBodyLimit,
    trustProxy: true,
  }).getInstance() as unknown as FastifyInstance;
  configureWebhookBodyParsing(own, runtime.config.webhookBodyLimit);
  registerWebhookRoutes(own, webhookDeps);
  await own.ready();
  fast.webhooks = own;
  (app.getHttpAdapter().getInstance() as unknown as FastifyInstance).addHook('onClose', async () => {
    await own.close();
  });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  app.enableShutdownHooks();
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Reclaim')
      .setDescription(
        'Abandoned-cart recovery appliance: store webhooks (with a signed example per platform), Twilio webhooks, public message links, admin API, dashboard and operations endpoints',
      )
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  // The webhook routes are plain Fastify routes (not scanned): described with a signed example each.
  SwaggerModule.setup('docs', app, addWebhookPaths(doc, runtime.clock()));
  return app;
}
