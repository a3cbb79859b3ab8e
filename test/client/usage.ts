import type { FreshChoiceClient } from './client.ts';
import type { components, operations, paths } from './generated/api.ts';

/**
 * Calls a client author writes, checked by `npm run client:check` (never run). Each line that
 * must compile does; each `@ts-expect-error` line must NOT compile, which proves the types are
 * real rather than `any` (tsc fails on an unused @ts-expect-error).
 */
export async function examples(client: FreshChoiceClient, itemId: string): Promise<void> {
  // The README's search: only `search`; page, limit and sortBy have defaults and may be left out.
  const list = await client.GET('/v1/inventory', { params: { query: { search: 'milk' } } });
  const first: string | undefined = list.data?.data[0]?.description;
  const total: number | undefined = list.data?.meta.pagination?.total;
  void [first, total];

  // The other lists with defaulted paging.
  await client.GET('/v1/inventory/{id}/history', { params: { path: { id: itemId } } });
  await client.GET('/v1/users');
  await client.GET('/v1/users/activity', { params: { query: { action: 'login' } } });

  // @ts-expect-error sortBy takes only the listed fields
  await client.GET('/v1/inventory', { params: { query: { sortBy: 'price' } } });
  // @ts-expect-error a path parameter cannot be left out
  await client.GET('/v1/inventory/{id}', {});
  // @ts-expect-error an unknown route does not exist for the client
  await client.GET('/v1/inventory/nothing-here');

  // Errors are the one envelope, typed.
  const missing = await client.GET('/v1/inventory/{id}', { params: { path: { id: itemId } } });
  const code: string | undefined = missing.error?.error.code;
  void code;

  // Bodies are typed; properties with a default (import options) are optional.
  await client.POST('/v1/inventory/{id}/adjust-stock', {
    params: { path: { id: itemId } },
    body: { adjustment: 5, reason: 'received' },
  });
  await client.POST('/v1/inventory/{id}/adjust-stock', {
    params: { path: { id: itemId } },
    // @ts-expect-error a reason outside the list is refused
    body: { adjustment: 5, reason: 'gift' },
  });
}

// Declared response headers reach the types.
type ListHeaders = operations['getInventory']['responses'][200]['headers'];
export type RequestIdHeader = ListHeaders['X-Request-Id'];
export type RateLimitRemaining = ListHeaders['RateLimit-Remaining'];
export type RetryAfter = components['responses']['TooManyRequests']['headers']['Retry-After'];
// Every error answer is the same component.
export type ErrorCode = components['schemas']['ErrorEnvelope']['error']['code'];
// Operation ids are the keys of `operations`.
export type ListOperation = paths['/v1/inventory']['get'] extends operations['getInventory'] ? true : never;
