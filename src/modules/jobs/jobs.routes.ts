import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  IdParams,
  JobListQuery,
  JobSchedule,
  JobStatus,
  JobType,
  type ScheduleJobRequest,
  ScheduledJob,
  payloadSchema,
  scheduleJobRequest,
  ScheduleUpdate,
} from './jobs.schemas.ts';
import type { JobsService } from './jobs.service.ts';

export interface JobsRoutesOptions {
  service: JobsService;
  guard: Guard;
}

const tags = ['jobs'];

export const jobsRoutes: FastifyPluginAsyncTypebox<JobsRoutesOptions> = async (app, { service, guard }) => {
  app.get(
    '/types',
    guard.protect('authenticated', {
      tags,
      summary: 'Job types, who may start each, and the payload each takes',
      response: { 200: Envelope(Type.Array(JobType)) },
    }),
    async (request) => ok(request, service.types()),
  );

  app.post(
    '',
    guard.protect(
      'authenticated',
      {
        tags,
        summary: 'Start a job now, after a delay, repeatedly, or on a cron schedule',
        description:
          "Without `schedule` the job is queued now. `delay` (ms) holds its first run back; `repeat.every` (ms) queues the next run when one completes, `repeat.limit` runs in all. `cron` instead creates a recurring schedule in the store's time zone (answered as `schedule`). The type's own permission applies (GET /v1/jobs/types).",
        body: scheduleJobRequest(payloadSchema(service.definitions())),
        response: { 201: Envelope(ScheduledJob) },
      },
      { errors: [403] },
    ),
    async (request, reply) => {
      reply.code(201);
      return ok(request, await service.submit(authOf(request), request.body as ScheduleJobRequest));
    },
  );

  app.get(
    '',
    guard.protect('inventory:read', {
      tags,
      summary: "The store's jobs, newest first",
      querystring: JobListQuery,
      response: { 200: Envelope(Type.Array(JobStatus)) },
    }),
    async (request) => {
      const { jobs, pagination } = await service.list(authOf(request), request.query);
      return ok(request, jobs, pagination);
    },
  );

  app.get(
    '/:id',
    guard.protect(
      'inventory:read',
      {
        tags,
        summary: "A job's status, progress, result or error",
        params: IdParams,
        response: { 200: Envelope(JobStatus) },
      },
      { errors: [404] },
    ),
    async (request) => ok(request, await service.get(authOf(request), request.params.id)),
  );

  app.post(
    '/:id/cancel',
    guard.protect(
      'authenticated',
      {
        tags,
        summary: 'Cancel a job that has not started',
        description: "Needs the permission that starts the job's type.",
        params: IdParams,
        response: { 200: Envelope(JobStatus) },
      },
      { errors: [404, 409] },
    ),
    async (request) => ok(request, await service.cancel(authOf(request), request.params.id)),
  );

  app.post(
    '/:id/retry',
    guard.protect(
      'authenticated',
      {
        tags,
        summary: 'Queue a failed job again',
        description: "Needs the permission that starts the job's type.",
        params: IdParams,
        response: { 200: Envelope(JobStatus) },
      },
      { errors: [404, 409] },
    ),
    async (request) => ok(request, await service.retry(authOf(request), request.params.id)),
  );
};

/** /v1/schedules: the store's recurring jobs, for admins. */
export const schedulesRoutes: FastifyPluginAsyncTypebox<JobsRoutesOptions> = async (
  app,
  { service, guard },
) => {
  app.get(
    '',
    guard.protect('settings:manage', {
      tags,
      summary: "The store's schedules: the built-in daily and weekly tasks and those added with a cron",
      response: { 200: Envelope(Type.Array(JobSchedule)) },
    }),
    async (request) => ok(request, await service.schedules(authOf(request))),
  );

  app.patch(
    '/:id',
    guard.protect(
      'settings:manage',
      {
        tags,
        summary: 'Re-time, rename, enable or disable a schedule',
        description: 'A changed or re-enabled schedule next runs at its first slot after now.',
        params: IdParams,
        body: ScheduleUpdate,
        response: { 200: Envelope(JobSchedule) },
      },
      { errors: [404] },
    ),
    async (request) =>
      ok(request, await service.updateSchedule(authOf(request), request.params.id, request.body)),
  );

  app.delete(
    '/:id',
    guard.protect(
      'settings:manage',
      {
        tags,
        summary: 'Delete a schedule added with a cron (built-in ones can only be disabled)',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deleted' }) },
      },
      { errors: [404, 409] },
    ),
    async (request, reply) => {
      await service.deleteSchedule(authOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
