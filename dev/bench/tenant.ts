import type { TenantFile } from '../graph-sim';

export const benchUpn = (index: number) => `user${String(index).padStart(5, '0')}@contoso.com`;

/**
 * `count` ordinary users, each with a mobile phone and an Authenticator app (the default method): a
 * portal-profile reset makes three writes (two deletions, one session revocation) and about six reads.
 */
export function benchTenant(count: number): TenantFile {
  return {
    tenantId: '2b3c4d5e-6f70-4819-9a0b-1c2d3e4f5a6b',
    displayName: 'Benchmark tenant',
    domains: ['contoso.com'],
    users: Array.from({ length: count }, (_, index) => ({
      userPrincipalName: benchUpn(index),
      displayName: `User ${index}`,
      defaultMethod: 'push' as const,
      methods: [
        { type: 'phone' as const, phoneType: 'mobile' as const, phoneNumber: `+1 42555${String(index % 100000).padStart(5, '0')}` },
        { type: 'microsoftAuthenticator' as const, displayName: 'Phone', deviceTag: 'SoftwareTokenActivated' },
      ],
    })),
  };
}
