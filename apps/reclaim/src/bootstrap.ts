import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AppModule } from './app.module';
import { ReceiveWebhook } from '@reclaim/application';
import type { FastifyInstance } from 'fastify';
import { configureBodyParsing } from './http/http-setup';
import { registerWebhookRoutes } from './http/webhook-routes';
import { MESSAGE_LINK_MAX_PARAM_LENGTH } from './http/messages';
import type { Runtime } from './runtime/runtime';

/** Builds the HTTP application on a runtime (used by main.ts and by the end-to-end tests). */
export async function createApp(runtime: Runtime, logger: Logger): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: runtime.config.webhookBodyLimit,
    trustProxy: true,
    // Message-link tokens (/u, /t/o, /t/c) are longer than find-my-way's default 100 characters.
    routerOptions: { maxParamLength: MESSAGE_LINK_MAX_PARAM_LENGTH },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRuntime(runtime, logger), adapter, {
    bufferLogs: true,
    abortOnError: false,
    bodyParser: false, // configureBodyParsing owns it: raw bytes for webhooks
  });
  app.useLogger(app.get(PinoNestLogger));
  configureBodyParsing(app, runtime.config.webhookBodyLimit);
  registerWebhookRoutes(app.getHttpAdapter().getInstance() as unknown as FastifyInstance, {
    receive: app.get(ReceiveWebhook),
    runtime,
    log: logger,
  });
  app.useGlobalPipes(
    new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false }),
  );
  app.enableShutdownHooks();
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Reclaim')
      .setDescription('Abandoned-cart recovery appliance: admin API and operations endpoints')
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, doc);
  return app;
}
