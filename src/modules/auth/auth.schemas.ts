import { Type } from 'typebox';
import type { UserRole } from '../../platform/db/schema.ts';
import { ROLES } from './permissions.ts';

const Email = Type.String({
  format: 'email',
  maxLength: 254,
  description: 'Case-insensitive; stored lower-cased',
});
// Length rules (8–128 characters, not the e-mail or username) are applied by the service, which
// counts characters rather than UTF-16 units and explains what is wrong.
const Password = Type.String({ minLength: 1, maxLength: 1024, description: '8 to 128 characters' });

export const RegisterBody = Type.Object({
  email: Email,
  username: Type.String({ minLength: 1, maxLength: 100 }),
  password: Password,
  companyName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  acceptTerms: Type.Boolean({ description: 'Must be true' }),
});

export const LoginBody = Type.Object({
  email: Email,
  password: Password,
  rememberMe: Type.Optional(Type.Boolean({ description: 'Refresh token lasts 30 days instead of 1' })),
});

export const RefreshBody = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 512 }) });
export const LogoutBody = RefreshBody;
export const ForgotPasswordBody = Type.Object({ email: Email });
export const ResetPasswordBody = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 512 }),
  newPassword: Password,
});

export const Role = Type.Unsafe<UserRole>({ type: 'string', enum: [...ROLES] });

export const SessionUser = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  username: Type.String(),
  role: Role,
  permissions: Type.Array(Type.String()),
  organization: Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() }),
});

export const LoginResponse = Type.Object({
  user: SessionUser,
  accessToken: Type.String({ description: 'JWT (HS256); send as Authorization: Bearer …' }),
  refreshToken: Type.String({ description: 'Opaque, single use: every refresh returns a new one' }),
  expiresIn: Type.Integer({ description: 'Access token lifetime in seconds' }),
});

export const Message = Type.Object({ message: Type.String() });
