import { afterEach, describe, expect, it, vi } from 'vitest';
import { AccessTokens } from './tokens.ts';

const claims = {
  sub: '00000000-0000-4000-8000-000000000001',
  email: 'ada@example.com',
  role: 'employee' as const,
  permissions: [],
  org: '00000000-0000-4000-8000-000000000002',
  sv: 1,
  sid: '00000000-0000-4000-8000-000000000003',
};
const key = new TextEncoder().encode('a-test-secret-a-test-secret-a-test-secret');

describe('access tokens remembered after verification', () => {
  afterEach(() => vi.useRealTimers());

  it('still expire: a token verified once is refused after its exp', async () => {
    const tokens = new AccessTokens(key, 60);
    const token = await tokens.sign(claims);
    expect((await tokens.verify(token)).sub).toBe(claims.sub);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    await expect(tokens.verify(token)).rejects.toMatchObject({ status: 401, code: 'TOKEN_EXPIRED' });
  });

  it('are remembered by their exact bytes: a token altered after a verified one is refused', async () => {
    const tokens = new AccessTokens(key, 60);
    const token = await tokens.sign(claims);
    await tokens.verify(token);
    const [header, payload, signature] = token.split('.');
    const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    forged.role = 'admin';
    const altered = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
    await expect(tokens.verify(altered)).rejects.toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
    // And a token signed with another key is refused even though its claims match a remembered one.
    const other = await new AccessTokens(new TextEncoder().encode('x'.repeat(40)), 60).sign(claims);
    await expect(tokens.verify(other)).rejects.toMatchObject({ status: 401, code: 'INVALID_TOKEN' });
  });
});
