import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import {
  ActivityEvent,
  ActivityQuery,
  IdParams,
  InviteBody,
  Me,
  Member,
  PageQuery,
  UpdateMeBody,
  UpdateMemberBody,
} from './users.schemas.ts';
import type { UsersService } from './users.service.ts';

export interface UsersRoutesOptions {
  service: UsersService;
  guard: Guard;
}

const tags = ['users'];

export const usersRoutes: FastifyPluginAsyncTypebox<UsersRoutesOptions> = async (app, { service, guard }) => {
  app.get(
    '/me',
    guard.protect('authenticated', {
      tags,
      summary: 'The signed-in member and their store',
      response: { 200: Envelope(Me) },
    }),
    async (request) => ok(request, await service.me(authOf(request))),
  );

  app.patch(
    '/me',
    guard.protect('authenticated', {
      tags,
      summary: 'Change your username and/or password',
      description: 'A new password needs `currentPassword`; it signs out your other sessions.',
      body: UpdateMeBody,
      response: { 200: Envelope(Me) },
    }),
    async (request) => ok(request, await service.updateMe(authOf(request), request.body, request.ip)),
  );

  app.get(
    '/activity',
    guard.protect('users:manage', {
      tags,
      summary: "The store's audit trail, newest first",
      description:
        'Sign-ins, failed sign-ins, sign-outs, refresh-token reuse, password resets and changes, invitations, role changes, (de)activations, settings changes.',
      querystring: ActivityQuery,
      response: { 200: Envelope(Type.Array(ActivityEvent)) },
    }),
    async (request) => {
      const { events, pagination } = await service.activity(authOf(request), request.query);
      return ok(request, events, pagination);
    },
  );

  app.get(
    '',
    guard.protect('users:manage', {
      tags,
      summary: "The store's members",
      querystring: PageQuery,
      response: { 200: Envelope(Type.Array(Member)) },
    }),
    async (request) => {
      const { members, pagination } = await service.list(
        authOf(request),
        request.query.page,
        request.query.limit,
      );
      return ok(request, members, pagination);
    },
  );

  app.post(
    '',
    guard.protect(
      'users:manage',
      {
        tags,
        summary: 'Add a member; they get an e-mail with a single-use link to set their password',
        description: 'The link carries a token that is redeemed with `POST /v1/auth/reset-password`.',
        body: InviteBody,
        response: { 201: Envelope(Member) },
      },
      { errors: [409] },
    ),
    async (request, reply) => {
      const member = await service.invite(authOf(request), request.body, request.ip);
      return reply.status(201).send(ok(request, member));
    },
  );

  app.patch(
    '/:id',
    guard.protect(
      'users:manage',
      {
        tags,
        summary: "Change a member's role or active flag",
        description:
          'Ends the member’s current sessions. A store always keeps at least one active admin (409 `LAST_ADMIN`).',
        params: IdParams,
        body: UpdateMemberBody,
        response: { 200: Envelope(Member) },
      },
      { errors: [404, 409] },
    ),
    async (request) =>
      ok(request, await service.update(authOf(request), request.params.id, request.body, request.ip)),
  );

  app.delete(
    '/:id',
    guard.protect(
      'users:manage',
      {
        tags,
        summary: 'Deactivate a member: they can no longer sign in and every session is revoked',
        params: IdParams,
        response: { 204: Type.Null({ description: 'Deactivated' }) },
      },
      { errors: [404, 409] },
    ),
    async (request, reply) => {
      await service.deactivate(authOf(request), request.params.id, request.ip);
      return reply.status(204).send(null);
    },
  );
};
