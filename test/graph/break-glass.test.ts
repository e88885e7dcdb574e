import { beforeEach, describe, expect, it } from 'vitest';
import { forgetBreakGlassIds } from '../../shared/graph/break-glass';
import { reset, useSimulator } from './helpers';

/** Break-glass accounts are matched by object id: renaming one does not take it off the list. */

const h = useSimulator({
  tenant: {
    domains: ['contoso.com'],
    users: [
      { userPrincipalName: 'breakglass1@contoso.com', methods: [{ type: 'fido2', displayName: 'Key 1' }] },
      { userPrincipalName: 'breakglass2@contoso.com', methods: [{ type: 'fido2', displayName: 'Key 2' }] },
      { userPrincipalName: 'someone@contoso.com', methods: [{ type: 'softwareOath' }] },
    ],
  },
});

const guards = (breakGlassUpns: string[]) => ({ protectedGroupIds: [], breakGlassUpns, tenantDomains: [] });

describe('break-glass by object id', () => {
  beforeEach(() => forgetBreakGlassIds());

  it('a break-glass account renamed after the list was resolved is still refused, with zero writes', async () => {
    // The first reset after start resolves the list (here: of another user, who is reset).
    expect((await reset(h.sim, { target: { userPrincipalName: 'someone@contoso.com' } }, { guards: guards(['breakglass1@contoso.com']) })).status).toBe('completed');
    h.sim.tenant.findUser('breakglass1@contoso.com')!.userPrincipalName = 'renamed.account@contoso.com';
    h.sim.resetLog();
    const result = await reset(h.sim, { target: { userPrincipalName: 'renamed.account@contoso.com' }, profile: 'all' }, { guards: guards(['breakglass1@contoso.com']) });
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.code).toBe('break-glass');
    expect(h.sim.requestLog.filter((entry) => entry.write)).toEqual([]);
  });

  it('an object id in the list is matched directly', async () => {
    const id = h.sim.tenant.findUser('breakglass2@contoso.com')!.id;
    const result = await reset(h.sim, { target: { userPrincipalName: 'breakglass2@contoso.com' }, profile: 'all' }, { guards: { ...guards([]), breakGlassIds: [id.toUpperCase()] } });
    expect(result.status === 'rejected' && result.code).toBe('break-glass');
  });

  it('an entry that resolves to nobody refuses every reset until it is fixed, naming it', async () => {
    const result = await reset(h.sim, { target: { userPrincipalName: 'someone@contoso.com' } }, { guards: guards(['gone.breakglass@contoso.com']) });
    expect(result.status).toBe('rejected');
    expect(result.status === 'rejected' && result.code).toBe('break-glass-unresolved');
    expect(result.status === 'rejected' && result.reason).toMatch(/gone\.breakglass@contoso\.com.*BREAK_GLASS_IDS/);
  });
});
