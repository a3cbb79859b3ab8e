import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import {
  ForgotPasswordBody,
  LoginBody,
  LoginResponse,
  LogoutBody,
  Message,
  RefreshBody,
  RegisterBody,
  ResetPasswordBody,
} from './auth.schemas.ts';
import { type AuthService, normaliseEmail } from './auth.service.ts';
import type { Guard } from './guard.ts';
import { hashOpaqueToken } from './tokens.ts';

export interface AuthRoutesOptions {
  service: AuthService;
  guard: Guard;
}

const tags = ['auth'];

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { service, guard }) => {
  app.post(
    '/register',
    guard.publicRoute(
      {
        tags,
        summary: 'Create an account and, with it, a new store in which the user is admin',
        description: 'Rate limit: 5 per 15 minutes per IP (`register`).',
        body: RegisterBody,
        response: { 201: Envelope(LoginResponse) },
      },
      { errors: [409], rateLimits: ['register'] },
    ),
    async (request, reply) => {
      await guard.limit('register', `ip:${request.ip}`, reply);
      const session = await service.register(request.body, request.ip);
      return reply.status(201).send(ok(request, session));
    },
  );

  app.post(
    '/login',
    guard.publicRoute(
      {
        tags,
        summary: 'Sign in with e-mail and password',
        description:
          'Rate limits: 5 attempts per 15 minutes per account (`authAccount`) and 100 per IP (`authIp`), so a shared office IP does not lock out a store.',
        body: LoginBody,
        response: { 200: Envelope(LoginResponse) },
      },
      { errors: [401], rateLimits: ['authIp', 'authAccount'] },
    ),
    async (request, reply) => {
      await guard.limit('authIp', `ip:${request.ip}`, reply);
      await guard.limit('authAccount', `login:${normaliseEmail(request.body.email)}`, reply);
      return ok(request, await service.login(request.body, request.ip));
    },
  );

  app.post(
    '/refresh',
    guard.publicRoute(
      {
        tags,
        summary: 'Exchange a refresh token for a new access token and a new refresh token',
        description:
          'The presented token is spent. Presenting a spent token again revokes every token of that session (reuse detection).',
        body: RefreshBody,
        response: { 200: Envelope(LoginResponse) },
      },
      { errors: [401], rateLimits: ['session'] },
    ),
    async (request, reply) => {
      await guard.limit('session', `ip:${request.ip}`, reply);
      return ok(request, await service.refresh(request.body.refreshToken, request.ip));
    },
  );

  app.post(
    '/logout',
    guard.publicRoute(
      {
        tags,
        summary: 'End the session a refresh token belongs to',
        description: 'Always answers 200: an unknown or already ended token changes nothing.',
        body: LogoutBody,
        response: { 200: Envelope(Message) },
      },
      { rateLimits: ['session'] },
    ),
    async (request, reply) => {
      await guard.limit('session', `ip:${request.ip}`, reply);
      await service.logout(request.body.refreshToken, request.ip);
      return ok(request, { message: 'Signed out' });
    },
  );

  app.post(
    '/forgot-password',
    guard.publicRoute(
      {
        tags,
        summary: 'E-mail a single-use password reset link (valid one hour)',
        description: 'Always answers 200, whether or not the address has an account.',
        body: ForgotPasswordBody,
        response: { 200: Envelope(Message) },
      },
      { rateLimits: ['authIp', 'authAccount'] },
    ),
    async (request, reply) => {
      await guard.limit('authIp', `ip:${request.ip}`, reply);
      await guard.limit('authAccount', `forgot:${normaliseEmail(request.body.email)}`, reply);
      await service.forgotPassword(request.body.email, request.ip);
      return ok(request, { message: 'If that address has an account, a reset link is on its way' });
    },
  );

  app.post(
    '/reset-password',
    guard.publicRoute(
      {
        tags,
        summary: 'Set a new password with a reset or invitation token; ends every session of the user',
        description: 'The token comes from the reset or invitation e-mail and is single use.',
        body: ResetPasswordBody,
        response: { 200: Envelope(Message) },
      },
      { rateLimits: ['authIp', 'authAccount'] },
    ),
    async (request, reply) => {
      await guard.limit('authIp', `ip:${request.ip}`, reply);
      await guard.limit('authAccount', `reset:${hashOpaqueToken(request.body.token).slice(0, 32)}`, reply);
      await service.resetPassword(request.body, request.ip);
      return ok(request, { message: 'Password set; sign in with it' });
    },
  );
};
