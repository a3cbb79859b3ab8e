import type { Db } from 'pg-boss';
import type { EmbeddedSession } from '../db/database.ts';

/**
 * pg-boss on the embedded database. PGlite is one PostgreSQL session shared by the whole process,
 * so every statement pg-boss sends takes the same session lock as the API's transactions
 * (database.ts): a poll can never land inside a request's open transaction, nor a request inside
 * one of pg-boss's multi-statement blocks.
 *
 * pg-boss's own `fromPglite` adapter takes no lock, and when a multi-statement block fails it rolls
 * back with a second, separate call, between which another caller could reach the aborted
 * session. Here the rollback happens before the lock is released. Measured alternative: serving
 * PGlite over the wire protocol (pglite-socket) so pg-boss could use its own pool shares one session
 * between all "connections" without any lock — a socket client's ROLLBACK undid the app's open
 * transaction (ARCHITECTURE.md, "Jobs").
 */
export function pgliteQueueAdapter(session: EmbeddedSession): Db {
  return {
    executeSql: (text, values) =>
      session.exclusive(async (client) => {
        try {
          if (values?.length) return { rows: (await client.query(text, values)).rows };
          // Without parameters pg-boss may send a script (BEGIN; …; COMMIT): exec runs all of it.
          const results = await client.exec(text);
          return { rows: results.flatMap((result) => result.rows) };
        } catch (error) {
          // A failed statement of a BEGIN … COMMIT script leaves the session in an aborted
          // transaction; end it before anyone else gets the session. Outside a transaction
          // ROLLBACK only warns.
          await client.exec('rollback').catch(() => {});
          throw error;
        }
      }),
    // In one process NOTIFY reaches PGlite's own listeners: workers wake as soon as a job is sent.
    async listen(channel, onNotification, onReconnect) {
      const unlisten = await session.exclusive((client) => client.listen(channel, onNotification));
      onReconnect();
      return { close: () => session.exclusive(() => unlisten()) };
    },
  };
}
