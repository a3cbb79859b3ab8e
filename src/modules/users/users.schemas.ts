import { Type } from 'typebox';
import { AUDIT_ACTIONS, type AuditAction } from '../audit/audit.repository.ts';
import { Role } from '../auth/auth.schemas.ts';

export const Member = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  username: Type.String(),
  role: Role,
  permissions: Type.Array(Type.String()),
  active: Type.Boolean(),
  passwordSet: Type.Boolean({ description: 'false until an invited member has set a password' }),
  lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const Me = Type.Intersect([
  Member,
  Type.Object({ organization: Type.Object({ id: Type.String({ format: 'uuid' }), name: Type.String() }) }),
]);

export const UpdateMeBody = Type.Object(
  {
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    currentPassword: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    newPassword: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: '8 to 128 characters' }),
    ),
  },
  { minProperties: 1 },
);

export const InviteBody = Type.Object({
  email: Type.String({ format: 'email', maxLength: 254 }),
  username: Type.String({ minLength: 1, maxLength: 100 }),
  role: Role,
});

export const UpdateMemberBody = Type.Object(
  { role: Type.Optional(Role), active: Type.Optional(Type.Boolean()) },
  { minProperties: 1 },
);

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const PageQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
});

export const ActivityQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1 }),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  action: Type.Optional(Type.Unsafe<AuditAction>({ type: 'string', enum: [...AUDIT_ACTIONS] })),
  userId: Type.Optional(
    Type.String({ format: 'uuid', description: 'Events where this member acted or was acted on' }),
  ),
});

export const ActivityEvent = Type.Object({
  id: Type.String({ format: 'uuid' }),
  action: Type.String(),
  actor: Type.Union([
    Type.Object({ id: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
  subject: Type.Union([
    Type.Object({ id: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
  details: Type.Record(Type.String(), Type.Unknown()),
  ip: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
