import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { queueDemoInvoices } from './modules/demo/demo.invoices.ts';
import { queueDemoForecasts, seedDemo } from './modules/demo/demo.seed.ts';

/** The server process: configuration, the app, the socket, and an orderly exit on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const app = await buildApp(config);

  // Requests drain first, then running jobs get their own SHUTDOWN_TIMEOUT_MS (queue.ts).
  closeWithGrace({ delay: config.shutdownTimeoutMs * 2 + 5_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an unexpected error');
    else app.log.info({ signal }, 'shutting down: draining in-flight requests');
    await app.close();
    app.log.info('shutdown complete');
  });

  const embedded = !config.databaseUrl;
  let demoLogin: { email: string; password: string } | undefined;
  let demoCreated = false;
  if (embedded && config.seedDemo) {
    const result = await seedDemo(app.platform.database, app.log);
    if (result.created) {
      app.log.info(result.summary, 'demo store seeded');
      await queueDemoForecasts(app.platform.database, app.platform.queue);
      demoCreated = true;
    }
    demoLogin = result.summary.login as { email: string; password: string };
  }

  await app.listen({ port: config.port, host: config.host });
  // Queued once the server answers: the sample invoices never hold up the first start.
  if (demoCreated) await queueDemoInvoices(app.platform.database, app.platform.queue);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  app.log.info(
    { url, database: app.platform.database.kind, redis: app.platform.redis ? 'redis' : 'in-process' },
    `Fresh Choice API ready at ${url} (docs at ${url}/docs)`,
  );
  if (demoLogin) {
    app.log.info(
      { demoLogin },
      `Demo store login: ${demoLogin.email} / ${demoLogin.password} (also manager@, employee@, viewer@demo.freshchoice.local)`,
    );
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Fresh Choice failed to start: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
