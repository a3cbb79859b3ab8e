import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './generated/api.ts';

/**
 * A client typed from the OpenAPI document alone, as an integrator would generate it
 * (openapi-typescript + openapi-fetch). `npm run client:check` generates the types and type-checks
 * this folder against them: a document that forces callers to send defaulted parameters, or loses
 * a route, fails there. client.test.ts also runs it against a real server.
 */
export type FreshChoiceClient = Client<paths>;

export function createFreshChoiceClient(
  baseUrl: string,
  accessToken?: () => string | undefined,
): FreshChoiceClient {
  const client = createClient<paths>({ baseUrl });
  client.use({
    onRequest({ request }) {
      const token = accessToken?.();
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
  });
  return client;
}
