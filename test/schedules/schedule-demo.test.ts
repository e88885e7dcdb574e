import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runScheduleDemo } from '../../dev/demo-schedule';
import { DEMO_REREGISTRATION_GROUP_ID, DEMO_RISKY_UPN } from '../../dev/graph-sim';
import { memberRemovals } from '../../dev/graph-sim/schedule-handlers';
import { structuredLogger } from '../../shared/log';
import { releaseDueRuns } from '../../shared/schedules/releaser';
import { scheduleServices } from '../../shared/schedules/schedule-services';
import { getServices } from '../../shared/services';
import { startJiraSim, type RunningJiraSim } from '../../dev/ticket-sims';
import { demoTenant } from '../../dev/graph-sim';
import { useAzurite } from '../support/azurite';
import { SECRET, startPipeline, type Pipeline } from '../bulk/support';
import { JIRA_ACCOUNT } from '../tickets/support';

vi.setConfig({ testTimeout: 240_000 });

/**
 * `npm run demo:schedule` against the whole app on the demo tenant, with the local Jira stand-in:
 * the commands it prints are the ones it runs, and the tenant ends as the demo says.
 */
const azurite = useAzurite();
let pipeline: Pipeline;
let jira: RunningJiraSim;
const quiet = structuredLogger({ log: () => undefined, warn: () => undefined, error: () => undefined });
beforeAll(async () => {
  jira = await startJiraSim({ account: JIRA_ACCOUNT });
  pipeline = await startPipeline(azurite.connectionString, {
    tenant: demoTenant,
    env: { JIRA_SITE_URL: jira.url, JIRA_USER_EMAIL: JIRA_ACCOUNT.email, JIRA_API_TOKEN: JIRA_ACCOUNT.apiToken, JIRA_PROJECT_KEYS: 'SCHED', REMEDIATION_GROUP_IDS: DEMO_REREGISTRATION_GROUP_ID },
  });
});
afterAll(async () => {
  await pipeline?.stop();
  await jira?.stop();
});

describe('npm run demo:schedule', () => {
  it('group schedule resets and removes both members, then finds nobody; the risky user is reset once; the capped run resets nobody and tells Jira once', async () => {
    jira.addIssue('SCHED-1');
    let printed = '';
    const { scheduleIds } = await runScheduleDemo({
      target: { url: pipeline.api.url, secret: SECRET },
      out: (text) => (printed += text),
      tick: () => releaseDueRuns(scheduleServices(getServices(), quiet)),
      ticket: 'SCHED-1',
    });
    expect(scheduleIds).toHaveLength(3);
    const tenant = pipeline.sim.tenant;
    const removedFrom = (upn: string) => tenant.removals.filter((removal) => removal.userPrincipalName === upn).map((removal) => removal.kind).sort();

    expect(printed).toContain(`$ npm run cli -- schedule create --name "Nightly re-registration" --schedule "0 0 2 * * *" --time-zone Europe/Amsterdam --group ${DEMO_REREGISTRATION_GROUP_ID} --remove-from-group`);
    expect(printed).toMatch(/: completed; found 2, handed to the bulk job 2, reset by this schedule already 0; completed 2, partial 0, failed 0; removed from the group 2/);
    expect(printed).toMatch(/: completed; found 0, handed to the bulk job 0/);
    expect(removedFrom('miriam.graham@contoso.com')).toEqual(['microsoftAuthenticator', 'phone']);
    expect(removedFrom('henrietta.mueller@contoso.com').length).toBeGreaterThan(0);
    expect(memberRemovals(tenant).filter((removal) => removal.groupId === DEMO_REREGISTRATION_GROUP_ID)).toHaveLength(2);

    expect(printed).toMatch(/: completed; found 1, handed to the bulk job 1, reset by this schedule already 0; completed 1/);
    expect(printed).toMatch(/: completed; found 1, handed to the bulk job 0, reset by this schedule already 1/);
    expect(removedFrom(DEMO_RISKY_UPN)).toEqual(['microsoftAuthenticator', 'phone']);

    expect(printed).toMatch(/: refused; found 7, would have reset 7 \(nobody was\)/);
    expect(printed).toContain("so it reset nobody");
    expect(removedFrom('adele.vance@contoso.com')).toEqual([]);
    expect(jira.comments('SCHED-1')).toHaveLength(1);
    expect(jira.comments('SCHED-1')[0]!.text).toContain('this run reset nobody');
    expect(printed).toMatch(/outcome\s+posted via jira/);
    expect(printed).toContain('/api/console/#/schedules');
  });
});
