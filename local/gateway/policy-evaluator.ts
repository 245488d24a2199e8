import type { PolicyDocument, Statement } from 'aws-lambda';
import { iamGlobMatches } from '#shared/authorization/iam-glob.ts';
import { INVOKE_ACTION } from '#shared/authorization/policies.ts';

/**
 * API Gateway's evaluation of an authorizer's IAM policy, for the local gateway: on AWS,
 * API Gateway itself does this, so nothing deployed needs it.
 */

export type PolicyEvaluation = 'allow' | 'explicit-deny' | 'implicit-deny';

/**
 * What API Gateway does with an authorizer's policy for one method ARN: any matching Deny
 * wins, else any matching Allow, else the request is implicitly denied. Resources and
 * actions match as IAM patterns (`*` any run of characters, `/` included; `?` one
 * character); resources case-sensitively, actions not. Conditions are not evaluated: a
 * conditional Allow grants nothing and a conditional Deny always applies, so an
 * unsupported policy can only fail closed.
 */
export function evaluatePolicy(policy: PolicyDocument, methodArn: string): PolicyEvaluation {
  let allowed = false;
  for (const statement of policy.Statement) {
    if (!statementMatches(statement, methodArn)) continue;
    if (statement.Effect === 'Deny') return 'explicit-deny';
    if (statement.Condition === undefined) allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

function statementMatches(statement: Statement, methodArn: string): boolean {
  const actionMatches =
    'Action' in statement
      ? asList(statement.Action).some((p) => iamGlobMatches(p, INVOKE_ACTION, true))
      : !asList(statement.NotAction).some((p) => iamGlobMatches(p, INVOKE_ACTION, true));
  if (!actionMatches) return false;
  if ('Resource' in statement && statement.Resource !== undefined) {
    return asList(statement.Resource).some((p) => iamGlobMatches(p, methodArn));
  }
  if ('NotResource' in statement && statement.NotResource !== undefined) {
    return !asList(statement.NotResource).some((p) => iamGlobMatches(p, methodArn));
  }
  return false;
}

function asList(value: string | readonly string[]): readonly string[] {
  return typeof value === 'string' ? [value] : value;
}
