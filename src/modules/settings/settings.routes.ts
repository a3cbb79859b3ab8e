import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Envelope, ok } from '../../platform/http/envelope.ts';
import { authOf, type Guard } from '../auth/guard.ts';
import { Settings, SettingsUpdate } from './settings.schemas.ts';
import type { SettingsService } from './settings.service.ts';

export interface SettingsRoutesOptions {
  service: SettingsService;
  guard: Guard;
}

const tags = ['settings'];

export const settingsRoutes: FastifyPluginAsyncTypebox<SettingsRoutesOptions> = async (
  app,
  { service, guard },
) => {
  app.get(
    '',
    guard.protect('authenticated', {
      tags,
      summary: "The store's settings",
      response: { 200: Envelope(Settings) },
    }),
    async (request) => ok(request, await service.get(authOf(request))),
  );

  app.put(
    '',
    guard.protect(
      'settings:manage',
      {
        tags,
        summary: "Change the store's settings",
        description: 'Send the keys to change; the others keep their values.',
        body: SettingsUpdate,
        response: { 200: Envelope(Settings) },
      },
      { errors: [422] },
    ),
    async (request) => ok(request, await service.update(authOf(request), request.body, request.ip)),
  );
};
