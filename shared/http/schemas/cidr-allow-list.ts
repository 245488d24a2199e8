import * as z from 'zod/mini';
import { API_COMPONENTS, type GroupSchemas, Id, KeyIdParams, Timestamp } from './common.ts';

const CidrInput = z
  .string()
  .check(
    z.maxLength(64, 'must be at most 64 characters'),
    z.describe('An IPv4 or IPv6 CIDR in network form (`10.0.0.0/8`, `2001:db8::/32`); a bare address means /32 or /128'),
  );

/** A rule of a key's allow list; also part of every key's view (schemas/api-keys.ts). */
export const CidrRuleView = z.strictObject({ id: Id, cidr: z.string(), createdAt: Timestamp }).register(API_COMPONENTS, { id: 'CidrRule' });

const CidrAllowListView = z.strictObject({ rules: z.array(CidrRuleView) }).register(API_COMPONENTS, { id: 'CidrAllowList' });
const RuleParams = z.strictObject({ keyId: Id, ruleId: Id });
const CidrBody = z.strictObject({ cidr: CidrInput });

export const CIDR_ALLOW_LIST_SCHEMAS = {
  listCidrRules: { params: KeyIdParams, response: CidrAllowListView, refusals: [404] },
  addCidrRule: { params: KeyIdParams, body: CidrBody, response: CidrRuleView, refusals: [404, 409] },
  updateCidrRule: { params: RuleParams, body: CidrBody, response: CidrRuleView, refusals: [404, 409] },
  deleteCidrRule: { params: RuleParams, refusals: [404] },
} as const satisfies GroupSchemas<'cidr-allow-list'>;
