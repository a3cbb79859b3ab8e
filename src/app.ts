import { readFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import compress from '@fastify/compress';
import cors from '@fastify/cors';
import helmet from 'helmet';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Config } from './config.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { AuthService } from './modules/auth/auth.service.ts';
import { Guard } from './modules/auth/guard.ts';
import { resolveJwtSecret } from './modules/auth/jwt-secret.ts';
import { SessionStates } from './modules/auth/session-state.ts';
import { AccessTokens } from './modules/auth/tokens.ts';
import { filesRoutes } from './modules/files/files.routes.ts';
import { createForecaster } from './modules/forecasting/forecaster.ts';
import { defineForecastJobs } from './modules/forecasting/forecasting.jobs.ts';
import { forecastingRoutes, inventoryForecastingRoutes } from './modules/forecasting/forecasting.routes.ts';
import { ForecastingService } from './modules/forecasting/forecasting.service.ts';
import { PromotionsService } from './modules/forecasting/promotions.service.ts';
import { alertWatch, defineAlertNotifyJob } from './modules/notifications/alert-notifications.ts';
import { vendorPerformanceRoutes } from './modules/vendors/performance.routes.ts';
import { VendorPerformanceService } from './modules/vendors/performance.service.ts';
import { defineVendorJobs } from './modules/vendors/vendors.jobs.ts';
import { defineFileJobs } from './modules/files/files.jobs.ts';
import { defineDemoInvoiceJobs } from './modules/demo/demo.invoices.ts';
import { defineInvoiceJobs } from './modules/invoices/invoices.jobs.ts';
import { invoicesRoutes } from './modules/invoices/invoices.routes.ts';
import { InvoicesService } from './modules/invoices/invoices.service.ts';
import { FilesService, recordServiceFile } from './modules/files/files.service.ts';
import { defineBackupJob } from './modules/backup/backup.jobs.ts';
import { AnalyticsService } from './modules/inventory/analytics.service.ts';
import { BarcodeService } from './modules/inventory/barcode.service.ts';
import { ImportService } from './modules/inventory/import.service.ts';
import { defineInventoryJobs } from './modules/inventory/inventory.jobs.ts';
import { inventoryRoutes } from './modules/inventory/inventory.routes.ts';
import { InventoryService } from './modules/inventory/inventory.service.ts';
import { jobsRoutes, schedulesRoutes } from './modules/jobs/jobs.routes.ts';
import { JobsService } from './modules/jobs/jobs.service.ts';
import { registerJobMetrics } from './modules/jobs/jobs.metrics.ts';
import { Scheduler } from './modules/jobs/scheduler.ts';
import { defineNotificationJobs } from './modules/notifications/notifications.jobs.ts';
import { notificationsRoutes } from './modules/notifications/notifications.routes.ts';
import { NotificationsService } from './modules/notifications/notifications.service.ts';
import { Notifier } from './modules/notifications/notifier.ts';
import { PushSender } from './modules/notifications/push.ts';
import { resolveVapidKeys } from './modules/notifications/vapid.ts';
import { opsRoutes } from './modules/ops/ops.routes.ts';
import { RealtimeHub } from './modules/realtime/hub.ts';
import { defineRealtimeJobs } from './modules/realtime/realtime.jobs.ts';
import { registerRealtimeMetrics } from './modules/realtime/realtime.metrics.ts';
import { realtimeRoutes } from './modules/realtime/realtime.routes.ts';
import { purchaseOrderRoutes, receiptRoutes } from './modules/purchasing/purchasing.routes.ts';
import { PurchasingService } from './modules/purchasing/purchasing.service.ts';
import { ReceivingService } from './modules/purchasing/receiving.service.ts';
import { settingsRoutes } from './modules/settings/settings.routes.ts';
import { defineShoppingListJobs } from './modules/shopping-lists/shopping-lists.jobs.ts';
import { shoppingListsRoutes } from './modules/shopping-lists/shopping-lists.routes.ts';
import { ShoppingListsService } from './modules/shopping-lists/shopping-lists.service.ts';
import { SettingsService } from './modules/settings/settings.service.ts';
import { StoreSettings } from './modules/settings/store-settings.ts';
import { usersRoutes } from './modules/users/users.routes.ts';
import { UsersService } from './modules/users/users.service.ts';
import { vendorsRoutes } from './modules/vendors/vendors.routes.ts';
import { optimizationRoutes } from './modules/optimization/optimization.routes.ts';
import { OptimizationService } from './modules/optimization/optimization.service.ts';
import { anomaliesRoutes } from './modules/anomalies/anomalies.routes.ts';
import { AnomaliesService } from './modules/anomalies/anomalies.service.ts';
import { defineAnomalyJobs } from './modules/anomalies/anomalies.jobs.ts';
import { alertsRoutes } from './modules/alerts/alerts.routes.ts';
import { AlertsService } from './modules/alerts/alerts.service.ts';
import { VendorsService } from './modules/vendors/vendors.service.ts';
import { migrate } from './platform/db/migrate.ts';
import { registerErrorHandling } from './platform/http/errors.ts';
import { ajvInputPlugin, registerInputGuard, renderFrameworkError } from './platform/http/input-guard.ts';
import { registerMetrics } from './platform/http/metrics.ts';
import { registerShutdownRefusal } from './platform/http/shutdown.ts';
import { registerOpenApi } from './platform/http/openapi.ts';
import { logDestination, loggerOptions, requestIdFor } from './platform/logger.ts';
import { createPlatform, type Platform, type PlatformOverrides } from './platform/platform.ts';
import { OutboxRelay } from './platform/realtime/relay.ts';

declare module 'fastify' {
  interface FastifyInstance {
    platform: Platform;
    config: Config;
    /** Publishes the outbox and feeds the WebSocket hub (src/platform/realtime/relay.ts). */
    realtime: { relay: OutboxRelay; hub: RealtimeHub };
  }
}

export const APP_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface BuildOptions {
  platform?: PlatformOverrides;
  /** Apply pending migrations before serving (default true; safe with several instances). */
  migrate?: boolean;
  /**
   * Start the job queue (and, unless WORKER_MODE=api, its workers and the scheduler); default
   * true. Only a build that will serve no request turns it off (the OpenAPI document's).
   */
  startJobs?: boolean;
  /**
   * Internal, for the benchmark only (bench/api-without-session-check.js): false skips the
   * per-request session check, so `npm run bench` can price it. Not configurable: a server
   * started the usual way always checks.
   */
  checkSessions?: boolean;
  /**
   * Internal, for tests only: the HTTPS agent web pushes go out through, so a test's local push
   * service (with its own certificate) is trusted. Not configurable.
   */
  pushAgent?: Agent;
}

/**
 * Builds the whole service without listening, so tests drive it through `app.inject` and main.ts
 * adds only the socket and the signals. Closing the app closes everything it opened.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { ...loggerOptions(config), stream: logDestination() },
    genReqId: requestIdFor,
    // One access line per request, written when it ends (below), not an extra one when it starts.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // New requests while closing get a 503 in the envelope from registerShutdownRefusal (Fastify's
    // own 503 is not in it); idle keep-alive sockets are dropped, so shutdown waits only for
    // requests that are really in flight.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // '/v1/users/' and '/v1/users' are the same resource to a client.
    routerOptions: { ignoreTrailingSlash: true },
    // Unknown properties are never dropped in silence: the input guard makes request objects
    // refuse them (400 naming the field). `verbose` gives each error its schema, for messages
    // a person can act on (src/platform/http/validation.ts).
    ajv: {
      customOptions: {
        allErrors: true,
        coerceTypes: 'array',
        useDefaults: true,
        removeAdditional: false,
        verbose: true,
      },
      onCreate: ajvInputPlugin,
    },
    // A malformed path or an over-long path parameter, answered in the envelope too.
    frameworkErrors: renderFrameworkError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Before opening anything: a missing production secret is a configuration error.
  const jwtSecret = resolveJwtSecret(config, app.log);
  const vapid = resolveVapidKeys(config, app.log);
  const platform = await createPlatform(config, app.log, options.platform, jwtSecret);
  app.decorate('platform', platform);
  app.decorate('config', config);
  let scheduler: Scheduler | undefined;
  app.addHook('onClose', async () => {
    await scheduler?.stop();
    await platform.close();
  });
  if (options.migrate !== false) {
    try {
      await migrate(platform.database, app.log);
    } catch (error) {
      await platform.close();
      throw error;
    }
  }

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerShutdownRefusal(app);
  // The access log: one line per request with what both of Fastify's lines carried (method, URL,
  // client, status, time). The second line was a third of the logging cost of a list request.
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    done();
  });

  registerErrorHandling(app);
  // Before any route: JSON parsing, parameter checks and request-schema hardening for all of them.
  registerInputGuard(app);
  const metrics = registerMetrics(app, platform.database);

  // TLS ends at the proxy; forcing https sub-resources would break /docs on plain-http hosts.
  // Security headers on every answer. helmet's middleware is built once here: @fastify/helmet
  // rebuilt it (parsing the CSP directives again) on every request, about 3% of a list
  // request's server CPU.
  const securityHeaders = helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  });
  app.addHook('onRequest', (request, reply, done) => {
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
  await app.register(cors, {
    origin: config.allowedOrigins.includes('*') ? true : config.allowedOrigins,
    credentials: true,
    exposedHeaders: [
      'X-Request-Id',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'Retry-After',
    ],
  });
  await app.register(compress, { global: true, threshold: 1024 });

  // The OpenAPI document: registered before the routes, so it sees each one as it is added.
  await registerOpenApi(app, { version: APP_VERSION });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  await app.register(opsRoutes, { platform, metrics, version: APP_VERSION });

  const { db } = platform.database;
  const sessions = new SessionStates(db, platform.cache, config.accessTokenTtlSeconds);
  const tokens = new AccessTokens(jwtSecret, config.accessTokenTtlSeconds);
  const guard = new Guard(tokens, sessions, platform.rateLimiter, {
    checkSessions: options.checkSessions ?? true,
  });
  app.decorateRequest('auth', null);
  const authService = new AuthService({
    db,
    tokens,
    mailer: platform.mailer,
    sessions,
    config,
    logger: app.log,
  });
  await app.register(authRoutes, { prefix: '/v1/auth', service: authService, guard });
  await app.register(usersRoutes, {
    prefix: '/v1/users',
    service: new UsersService({ db, mailer: platform.mailer, sessions, config }),
    guard,
  });
  const storeSettings = new StoreSettings(platform.cache);
  await app.register(settingsRoutes, {
    prefix: '/v1/settings',
    service: new SettingsService(db, storeSettings),
    guard,
  });
  await app.register(inventoryRoutes, {
    prefix: '/v1/inventory',
    service: new InventoryService(db, storeSettings),
    barcodes: new BarcodeService(db, storeSettings),
    imports: new ImportService(db, storeSettings),
    analytics: new AnalyticsService(db, storeSettings),
    guard,
    tmpDir: platform.scratch.dir,
    importMaxBytes: config.importMaxBytes,
  });
  // Forecasting: its engine runs on worker threads, started on first use and stopped with the app.
  const forecaster = createForecaster(config.forecastThreads);
  app.addHook('onClose', async () => forecaster.close());
  const forecasting = new ForecastingService(db, storeSettings, forecaster);
  await app.register(forecastingRoutes, {
    prefix: '/v1/ml',
    service: forecasting,
    promotions: new PromotionsService(db),
    guard,
  });
  // GET /v1/inventory/forecasting: a static path, so it wins over the inventory plugin's /:id.
  await app.register(inventoryForecastingRoutes, { prefix: '/v1/inventory', service: forecasting, guard });
  defineForecastJobs(platform.queue, forecasting);
  await app.register(alertsRoutes, { prefix: '/v1/alerts', service: new AlertsService(db), guard });
  await app.register(vendorsRoutes, { prefix: '/v1/vendors', service: new VendorsService(db), guard });
  // Performance is computed from purchasing's orders and receipts: its own plugin, same prefix.
  await app.register(vendorPerformanceRoutes, {
    prefix: '/v1/vendors',
    service: new VendorPerformanceService(db, storeSettings),
    guard,
  });
  await app.register(optimizationRoutes, {
    prefix: '/v1/ml/optimize',
    service: new OptimizationService(db, storeSettings),
    guard,
  });
  await app.register(anomaliesRoutes, {
    prefix: '/v1/ml/anomalies',
    service: new AnomaliesService(db, storeSettings),
    guard,
  });
  const files = new FilesService({
    db,
    storage: platform.storage,
    logger: app.log,
    maxBytes: config.fileMaxBytes,
    downloadRedirect: config.fileDownloadRedirect,
    queue: platform.queue,
  });
  await app.register(filesRoutes, { prefix: '/v1/files', service: files, guard });
  // notifier.notifyUsers(trx, orgId, …) is how a module notifies members in its own transaction.
  const notifier = new Notifier(platform.queue);
  const invoices = new InvoicesService({
    db,
    queue: platform.queue,
    files,
    settings: storeSettings,
    notifier,
  });
  await app.register(invoicesRoutes, { prefix: '/v1/invoices', service: invoices, guard });
  defineInvoiceJobs(platform.queue, platform, invoices, db, storeSettings);
  defineDemoInvoiceJobs(platform.queue, db, invoices, storeSettings);
  const purchasing = {
    service: new PurchasingService({ db, settings: storeSettings, mailer: platform.mailer }),
    receiving: new ReceivingService(db, storeSettings, {
      shortDatedShare: config.receiptShortDatedShare,
      overTolerance: config.receiptOverTolerance,
    }),
    guard,
  };
  await app.register(purchaseOrderRoutes, { prefix: '/v1/purchase-orders', ...purchasing });
  await app.register(receiptRoutes, { prefix: '/v1/receipts', ...purchasing });
  const shoppingLists = new ShoppingListsService(db, storeSettings);
  await app.register(shoppingListsRoutes, { prefix: '/v1/shopping-lists', service: shoppingLists, guard });
  defineShoppingListJobs(platform.queue, db, shoppingLists);
  defineFileJobs(platform.queue, platform);
  defineBackupJob(platform.queue, db, platform.database.kind, platform.storage, (orgId, fileId, backup, at) =>
    recordServiceFile(platform, orgId, {
      id: fileId,
      key: backup.key,
      category: 'document',
      filename: `fresh-choice-backup-${at.toISOString().slice(0, 10)}.ndjson.gz`,
      mimeType: 'application/gzip',
      size: backup.bytes,
      sha256: backup.sha256,
      title: `Backup of ${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    }),
  );

  const pushSender = new PushSender(vapid, options.pushAgent);
  await app.register(notificationsRoutes, {
    prefix: '/v1/notifications',
    service: new NotificationsService({
      db,
      notifier,
      vapidPublicKey: pushSender.publicKey,
      pushEndpointHosts: config.pushEndpointHosts,
    }),
    guard,
  });
  defineNotificationJobs({
    queue: platform.queue,
    db,
    sender: pushSender,
    settings: storeSettings,
    mailer: platform.mailer,
    publicAppUrl: config.publicAppUrl,
  });
  // Realtime: the relay publishes the outbox and reads what was published; the hub fans it out to
  // this instance's sockets. A worker-only process serves no sockets and starts no relay.
  // Alert events are also handed, once each, to the job that notifies members of them.
  const relay = new OutboxRelay(platform.database, { logger: app.log, watch: alertWatch(platform.queue) });
  defineAlertNotifyJob(platform.queue, db, notifier);
  const hub: RealtimeHub = new RealtimeHub({
    guard,
    relay,
    db,
    logger: app.log,
    heartbeatSeconds: config.wsHeartbeatSeconds,
    authTimeoutSeconds: config.wsAuthTimeoutSeconds,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    counters: registerRealtimeMetrics(metrics, () => hub.size),
  });
  app.decorate('realtime', { relay, hub });
  await app.register(realtimeRoutes, { hub });
  if (config.workerMode !== 'worker' && options.startJobs !== false) {
    app.addHook('onReady', async () => relay.start());
    // onClose hooks run last-added first: this one before the platform's, which closes the database.
    app.addHook('onClose', async () => relay.stop());
  }
  defineRealtimeJobs(platform.queue, db, config.realtimeRetentionHours);

  defineVendorJobs(platform.queue, db, storeSettings);
  defineInventoryJobs(platform.queue, db, storeSettings);
  defineAnomalyJobs(platform.queue, db, storeSettings);
  const jobs = new JobsService(db, platform.queue);
  await app.register(jobsRoutes, { prefix: '/v1/jobs', service: jobs, guard });
  await app.register(schedulesRoutes, { prefix: '/v1/schedules', service: jobs, guard });

  // Every job type is defined by now. WORKER_MODE=api only enqueues; the others also work the
  // queue and fire the stores' schedules.
  registerJobMetrics(metrics, platform.queue, db);
  const works = config.workerMode !== 'api';
  if (options.startJobs !== false) await platform.queue.start({ work: works });
  if (works && options.startJobs !== false) {
    // Started when the app is ready (main.ts seeds the demo store before that): the first tick
    // gives every store, the demo one included, its schedules at once.
    const started = new Scheduler(db, platform.queue, app.log, config.scheduleCheckSeconds);
    scheduler = started;
    app.addHook('onReady', async () => started.start());
  }

  return app;
}
