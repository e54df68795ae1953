import 'reflect-metadata';
import { loadConfig, ConfigError } from './config/app-config';
import { createApp } from './bootstrap';
import { createLogger } from './logging';
import { createRuntime } from './runtime/runtime';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.LOG_LEVEL);
  const runtime = await createRuntime(config, { log });
  const app = await createApp(runtime, log);
  app.enableShutdownHooks();
  const shutdown = async () => {
    await app.close();
    await runtime.close();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      runtime.markStopping();
      void shutdown().finally(() => process.exit(0));
    });
  }
  await app.listen({ port: config.PORT, host: '0.0.0.0' });
  const url = `http://localhost:${config.PORT}`;
  log.info(
    {
      url,
      health: `${url}/health`,
      docs: `${url}/docs`,
      database: runtime.embedded ? 'embedded' : 'DATABASE_URL',
      eventStore: config.EVENT_STORE,
      roles: [...config.roles],
    },
    `Reclaim listens on ${url}`,
  );
}

main().catch((err) => {
  console.error('Reclaim failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
