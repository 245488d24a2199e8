import { InterruptedError, SetupError } from './cleanup.ts';
import { checkBothKeysRequired, checkCidrRule, checkOwnerWhoami, checkRestrictedKey, checkViewer } from './checks/access.ts';
import type { Caller, SmokeContext } from './checks/context.ts';
import { checkLeakRoute, checkRolls } from './checks/lifecycle.ts';
import { checkRevocation } from './checks/revocation.ts';
import { checkTeamRoute, type TeamRoute } from './checks/team-routes.ts';

/**
 * The checks in the order a reader would try them by hand. A step that cannot make what it
 * needs fails as one line naming why, and the steps after it still run where they can.
 */
export async function runChecks(context: SmokeContext, routes: readonly TeamRoute[]): Promise<void> {
  await checkBothKeysRequired(context);
  const caller: Caller = await checkOwnerWhoami(context);
  await checkLeakRoute(context);

  let viewerUserId: string | undefined;
  await step(context, "a viewer's read and write", async () => {
    const viewer = await context.ledger.userWithKey('viewer');
    viewerUserId = viewer.userId;
    await checkViewer(context, viewer.key);
  });
  const withViewer = (name: string, check: (userId: string) => Promise<void>): Promise<void> =>
    step(context, name, () => {
      if (viewerUserId === undefined) throw new SetupError('not run: no viewer to hold its keys');
      return check(viewerUserId);
    });

  await withViewer('the restricted key', (userId) => checkRestrictedKey(context, userId));
  await withViewer('the CIDR rule', (userId) => checkCidrRule(context, userId, caller));
  await withViewer('the rolls', (userId) => checkRolls(context, userId));
  await withViewer('the revocation trials', (userId) => checkRevocation(context, userId));
  for (const route of routes) {
    await withViewer(`${route.method} ${route.path}`, (userId) => checkTeamRoute(context, route, userId, caller));
  }
}

async function step(context: SmokeContext, name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SetupError) context.report.fail(name, error.message);
    else if (error instanceof InterruptedError) throw error;
    else context.report.fail(name, `stopped by an unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  }
}
