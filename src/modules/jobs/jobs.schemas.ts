import { type Static, type TSchema, Type } from 'typebox';
import { JOB_PRIORITIES, type JobPriority } from '../../platform/queue/queue.ts';

export const JOB_STATUSES = ['pending', 'processing', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATUSES)[number];

const Priority = Type.Unsafe<JobPriority>({
  type: 'string',
  enum: [...JOB_PRIORITIES],
  description: 'Higher priorities are taken first: critical, high, normal, low',
});
const DateTime = Type.String({ format: 'date-time' });

/** The spec's JobStatus, with `cancelled` (a pending job can be cancelled) and the attempt count. */
export const JobStatus = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String({ description: 'The job type, e.g. inventory:check_expiry' }),
  status: Type.Unsafe<JobState>({
    type: 'string',
    enum: [...JOB_STATUSES],
    description:
      'pending (waiting, including between retries), processing, completed, failed (no retries left), cancelled',
  }),
  progress: Type.Integer({ minimum: 0, maximum: 100, description: 'Percent done; 100 once completed' }),
  result: Type.Optional(Type.Unknown({ description: 'What the job returned, once completed' })),
  error: Type.Optional(Type.String({ description: 'Why the last attempt failed' })),
  priority: Priority,
  attempts: Type.Integer({ minimum: 0, description: 'Attempts started so far' }),
  maxAttempts: Type.Integer({ minimum: 1, description: 'Attempts allowed before the job fails' }),
  runAfter: Type.String({
    format: 'date-time',
    description: 'Not started before this time (delay, retry backoff)',
  }),
  createdAt: DateTime,
  startedAt: Type.Optional(DateTime),
  completedAt: Type.Optional(DateTime),
});
export type JobStatus = Static<typeof JobStatus>;

/**
 * A job payload: the named values of the types that can be started through the API, each bounded
 * by its type's schema, all optional here; the service then holds a payload to its own type's
 * schema (GET /v1/jobs/types), so a key of another type is refused by name. Built from the job
 * definitions when the routes are registered, so the document lists every key there is.
 */
export function payloadSchema(
  definitions: ReadonlyArray<{ type: string; startPermission?: string; payloadSchema?: TSchema }>,
) {
  const properties: Record<string, TSchema> = {};
  const owners: Record<string, string> = {};
  for (const definition of definitions) {
    if (!definition.startPermission || !definition.payloadSchema) continue;
    const fields = (definition.payloadSchema as { properties?: Record<string, TSchema> }).properties ?? {};
    for (const [name, field] of Object.entries(fields)) {
      if (properties[name] && JSON.stringify(properties[name]) !== JSON.stringify(field)) {
        throw new Error(
          `payload key '${name}' means different things to ${owners[name]} and ${definition.type}`,
        );
      }
      properties[name] = field;
      owners[name] = definition.type;
    }
  }
  return Type.Object(
    Object.fromEntries(Object.entries(properties).map(([name, field]) => [name, Type.Optional(field)])),
    { additionalProperties: false, description: 'Named values for the job; each type says which it accepts' },
  );
}

/** The spec's ScheduleJobRequest, for these job types. */
export const scheduleJobRequest = (payload: TSchema) =>
  Type.Object({
    type: Type.String({ minLength: 1, maxLength: 100, description: 'A type listed by GET /v1/jobs/types' }),
    payload: Type.Optional(payload),
    schedule: Type.Optional(
      Type.Object({
        cron: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 100,
            description:
              "Five-field cron expression in the store's time zone (settings.timeZone); creates a recurring schedule",
          }),
        ),
        delay: Type.Optional(
          Type.Integer({
            minimum: 0,
            maximum: 30 * 24 * 3600 * 1000,
            description: 'Milliseconds to wait before the first run',
          }),
        ),
        repeat: Type.Optional(
          Type.Object({
            every: Type.Integer({
              minimum: 60_000,
              maximum: 30 * 24 * 3600 * 1000,
              description: 'Milliseconds between the end of one run and the start of the next',
            }),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Runs in all' })),
          }),
        ),
      }),
    ),
    priority: Type.Optional(Priority),
  });
export type ScheduleJobRequest = Omit<Static<ReturnType<typeof scheduleJobRequest>>, 'payload'> & {
  payload?: Record<string, unknown>;
};

export const JobSchedule = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String(),
  name: Type.String(),
  cron: Type.String(),
  timeZone: Type.String({ description: "The store's zone the expression is read in" }),
  payload: Type.Record(Type.String(), Type.Unknown()),
  priority: Priority,
  enabled: Type.Boolean(),
  builtin: Type.Boolean({
    description: "One of the spec's daily and weekly tasks: it can be re-timed or disabled, not deleted",
  }),
  nextRunAt: Type.Union([DateTime, Type.Null()]),
  lastRunAt: Type.Union([DateTime, Type.Null()]),
  lastJobId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
});
export type JobSchedule = Static<typeof JobSchedule>;

export const ScheduleUpdate = Type.Object(
  {
    cron: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Five-field cron expression' }),
    ),
    enabled: Type.Optional(Type.Boolean()),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    priority: Type.Optional(Priority),
  },
  { minProperties: 1 },
);
export type ScheduleUpdate = Static<typeof ScheduleUpdate>;

/** POST /v1/jobs answers the job it queued, or (with schedule.cron) the schedule it created. */
export const ScheduledJob = Type.Object({
  job: Type.Optional(JobStatus),
  schedule: Type.Optional(JobSchedule),
});

export const JobType = Type.Object({
  type: Type.String(),
  description: Type.String(),
  startPermission: Type.Union([Type.String(), Type.Null()], {
    description: 'Permission needed to start it through POST /v1/jobs; null = started only by the system',
  }),
  payload: Type.Unknown({ description: 'JSON Schema of the payload it accepts' }),
  defaultSchedule: Type.Union([Type.Object({ name: Type.String(), cron: Type.String() }), Type.Null()]),
});

export const JobListQuery = Type.Object({
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  status: Type.Optional(Type.Unsafe<JobState>({ type: 'string', enum: [...JOB_STATUSES] })),
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
});
export type JobListQuery = Static<typeof JobListQuery>;

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
