import type { UserRole } from '../../platform/db/schema.ts';

/**
 * The one place that says who may do what. Routes declare the permission they need; the token
 * carries the role's permissions at issue time, and the role is re-checked through the session
 * version whenever it changes.
 */
export const PERMISSIONS = [
  'inventory:read',
  'inventory:write',
  'inventory:delete',
  'vendor:manage',
  'invoice:process',
  'reports:view',
  'settings:manage',
  // Not in the spec's enum: managing members is the admin's alone, and routes need a name for it.
  'users:manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'manager', 'employee', 'viewer'] as const satisfies readonly UserRole[];

const viewer: Permission[] = ['inventory:read', 'reports:view'];
const employee: Permission[] = ['inventory:read', 'inventory:write', 'invoice:process'];
const manager: Permission[] = [...employee, 'inventory:delete', 'vendor:manage', 'reports:view'];

export const ROLE_PERMISSIONS: Readonly<Record<UserRole, readonly Permission[]>> = Object.freeze({
  viewer,
  employee,
  manager,
  admin: [...PERMISSIONS],
});

export function permissionsOf(role: UserRole): Permission[] {
  return [...ROLE_PERMISSIONS[role]];
}

/** One frozen set per role, built once: the guard checks it on every request. */
const PERMISSION_SETS = new Map(
  ROLES.map((role) => [role, Object.freeze(new Set(ROLE_PERMISSIONS[role]))] as const),
);

export function permissionSetOf(role: UserRole): ReadonlySet<Permission> {
  return PERMISSION_SETS.get(role)!;
}
