// The API as `npm start` runs it (compiled dist/, the same Node flags) with one difference: the
// guard skips the per-request session check. Only `npm run bench` starts it, beside the real
// server on the same database, to measure what the check costs. Plain JavaScript so that, like
// dist/main.js, it runs without Node's TypeScript stripper in memory; no switch in the server's
// own configuration can turn the check off.
import process from 'node:process';
import { buildApp } from '../dist/app.js';
import { loadConfig } from '../dist/config.js';

const config = loadConfig();
const app = await buildApp(config, { checkSessions: false });
await app.listen({ port: config.port, host: config.host });
app.log.info('Fresh Choice API ready (without the session check)');
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
