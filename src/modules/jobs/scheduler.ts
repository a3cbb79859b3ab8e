import type { Kysely } from 'kysely';
import type { DB } from '../../platform/db/schema.ts';
import type { Logger } from '../../platform/logger.ts';
import type { JobQueue } from '../../platform/queue/queue.ts';
import { nextRun } from './cron.ts';
import * as repo from './schedules.repository.ts';

const BATCH = 200;

export interface TickResult {
  added: number;
  timed: number;
  fired: Array<{ scheduleId: string; orgId: string; type: string; slot: Date; jobId: string | null }>;
}

/**
 * Fires each store's schedules (job_schedules) at the store's local time. Every worker process runs
 * one; the row lock taken when a due schedule is claimed, and next_run_at moved past now in the same
 * transaction as the job it enqueues, make each slot fire once across any number of them. A slot
 * missed while nothing ran is due on the next tick and fires once: the next run after it is counted
 * from now, not from the slot, so a week of downtime is one run, not seven.
 */
export class Scheduler {
  readonly #db: Kysely<DB>;
  readonly #queue: JobQueue;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<unknown> | undefined;

  constructor(db: Kysely<DB>, queue: JobQueue, logger: Logger, checkSeconds: number) {
    this.#db = db;
    this.#queue = queue;
    this.#logger = logger;
    this.#intervalMs = checkSeconds * 1000;
  }

  /** Ticks now (missed slots fire on start) and then every SCHEDULE_CHECK_SECONDS. */
  start(): void {
    const run = () => {
      if (this.#ticking) return;
      this.#ticking = this.tick(new Date())
        .catch((error: unknown) => this.#logger.error({ err: error }, 'schedule check failed'))
        .finally(() => (this.#ticking = undefined));
    };
    run();
    this.#timer = setInterval(run, this.#intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#ticking;
  }

  /** One pass at `now`: builtin schedules for new stores, next runs to compute, due slots to fire. */
  async tick(now: Date): Promise<TickResult> {
    const builtins = this.#queue.definitions.flatMap((definition) =>
      definition.defaultSchedule ? [{ type: definition.type, ...definition.defaultSchedule }] : [],
    );
    const added = await repo.addMissingBuiltins(this.#db, builtins);
    let timed = 0;
    for (;;) {
      const pending = await repo.schedulesToTime(this.#db, BATCH);
      if (pending.length === 0) break;
      await repo.setNextRuns(
        this.#db,
        pending.map((row) => ({
          id: row.id,
          next: this.#next(row, now)?.toISOString() ?? null,
          timeZone: row.time_zone,
        })),
      );
      timed += pending.length;
      if (pending.length < BATCH) break;
    }
    const fired: TickResult['fired'] = [];
    for (;;) {
      const batch = await this.#db.transaction().execute(async (trx) => {
        const due = await repo.claimDue(trx, now, BATCH);
        const done: TickResult['fired'] = [];
        for (const schedule of due) {
          let jobId: string | null = null;
          if (this.#queue.has(schedule.job_type)) {
            jobId = await this.#queue.enqueue(trx, schedule.job_type, schedule.payload, {
              orgId: schedule.org_id,
              priority: schedule.priority,
              // A second guard besides the row lock: one job per schedule and slot.
              singletonKey: `schedule:${schedule.id}:${schedule.next_run_at.toISOString()}`,
            });
          } else {
            this.#logger.warn(
              { scheduleId: schedule.id, type: schedule.job_type },
              'schedule of an unknown job type skipped',
            );
          }
          await repo.markFired(trx, {
            id: schedule.id,
            slot: schedule.next_run_at,
            next: this.#next({ id: schedule.id, cron: schedule.cron, time_zone: schedule.time_zone }, now),
            timeZone: schedule.time_zone,
            jobId,
          });
          done.push({
            scheduleId: schedule.id,
            orgId: schedule.org_id,
            type: schedule.job_type,
            slot: schedule.next_run_at,
            jobId,
          });
        }
        return done;
      });
      fired.push(...batch);
      if (batch.length < BATCH) break;
    }
    if (fired.length > 0) this.#logger.info({ fired: fired.length }, 'scheduled jobs enqueued');
    return { added, timed, fired };
  }

  /** The next slot after `now`; null (the schedule waits) when the expression cannot be read. */
  #next(row: { id: string; cron: string; time_zone: string }, now: Date): Date | null {
    try {
      return nextRun(row.cron, row.time_zone, now);
    } catch (error) {
      this.#logger.error(
        { err: error, scheduleId: row.id },
        'schedule has an unreadable cron expression or zone',
      );
      return null;
    }
  }
}
