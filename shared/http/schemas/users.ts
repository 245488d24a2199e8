import * as z from 'zod/mini';
import { ROLES } from '../../domain/roles.ts';
import { API_COMPONENTS, type GroupSchemas, Id, Timestamp } from './common.ts';

const UserName = z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.maxLength(100, 'must be at most 100 characters'));
const Email = z.email('must be an email address').check(z.maxLength(254, 'must be at most 254 characters'));
const RoleSchema = z.enum(ROLES);

export const UserView = z
  .strictObject({ id: Id, name: z.string(), email: z.string(), role: RoleSchema, createdAt: Timestamp })
  .register(API_COMPONENTS, { id: 'User' });

const UserListView = z.strictObject({ items: z.array(UserView) }).register(API_COMPONENTS, { id: 'UserList' });
const UserIdParams = z.strictObject({ userId: Id });

export const USERS_SCHEMAS = {
  listUsers: { response: UserListView },
  createUser: { body: z.strictObject({ name: UserName, email: Email, role: RoleSchema }), response: UserView },
  updateUser: { params: UserIdParams, body: z.strictObject({ role: RoleSchema }), response: UserView, refusals: [404, 409] },
  deleteUser: { params: UserIdParams, refusals: [404, 409] },
} as const satisfies GroupSchemas<'users'>;
