import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

/**
 * `npm run worker`: a process that only works the job queue and fires the stores' schedules
 * (WORKER_MODE=worker), beside API processes started with WORKER_MODE=api (or all). It needs
 * PostgreSQL (DATABASE_URL). It opens no port; on SIGTERM/SIGINT running jobs get
 * SHUTDOWN_TIMEOUT_MS to finish, and what still runs then is handed back to the queue.
 */
async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, WORKER_MODE: 'worker' });
  const app = await buildApp(config);
  closeWithGrace({ delay: config.shutdownTimeoutMs + 5_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'worker stopping after an unexpected error');
    else app.log.info({ signal }, 'worker stopping: finishing running jobs');
    await app.close();
    app.log.info('worker stopped');
  });
  app.log.info(
    { types: app.platform.queue.types, concurrency: config.jobConcurrency },
    'Fresh Choice worker running',
  );
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else
    process.stderr.write(`Fresh Choice worker failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
