import { DEMO_BREAK_GLASS_UPN, DEMO_PROTECTED_GROUP_ID, DEMO_REREGISTRATION_GROUP_ID, demoTenant } from './graph-sim/demo-tenant';

/**
 * Guard settings for the built-in demo tenant, so that `npm start` refuses its break-glass account and
 * its protected group's members out of the box, and shows approval at work. Each applies only when the
 * setting is not set already (environment or local.settings.json), and never against another tenant.
 */
export function applyDemoGuards(env: NodeJS.ProcessEnv): string[] {
  const defaults: Record<string, string> = {
    BREAK_GLASS_UPNS: DEMO_BREAK_GLASS_UPN,
    PROTECTED_GROUP_IDS: DEMO_PROTECTED_GROUP_ID,
    TENANT_DOMAINS: (demoTenant.domains ?? []).join(','),
    REQUIRE_APPROVAL: 'true',
    // The one group a schedule may empty: "MFA re-registration required", never "All staff" or the protected group.
    REMEDIATION_GROUP_IDS: DEMO_REREGISTRATION_GROUP_ID,
  };
  const lines: string[] = [];
  for (const [name, value] of Object.entries(defaults)) {
    const given = env[name] !== undefined && env[name] !== '';
    if (!given) env[name] = value;
    lines.push(`${name}=${env[name]}${given ? '' : ' (demo default)'}`);
  }
  return lines;
}
