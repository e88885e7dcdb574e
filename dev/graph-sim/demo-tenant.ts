import type { TenantFile } from './tenant-file';

/** The security group whose members the demo configuration protects (PROTECTED_GROUP_IDS). */
export const DEMO_PROTECTED_GROUP_ID = '5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5';
export const DEMO_BREAK_GLASS_UPN = 'breakglass@contoso.com';
/** The console's groups in the demo tenant (CONSOLE_READER_GROUP_ID, PASS_COLLECTOR_GROUP_ID under npm start). */
export const DEMO_CONSOLE_READER_GROUP_ID = 'c0a5011e-0d0e-4a1b-8c2d-3e4f5a6b7c8d';
export const DEMO_PASS_COLLECTOR_GROUP_ID = 'c0a5011e-7a55-4c0d-9e1f-2a3b4c5d6e7f';
/** Who may ask to finish a partial reset, and who approves it (CONSOLE_OPERATOR_GROUP_ID, CONSOLE_APPROVER_GROUP_ID under npm start). */
export const DEMO_CONSOLE_OPERATOR_GROUP_ID = 'c0a5011e-0be2-4a70-8b1c-2d3e4f5a6b7c';
export const DEMO_CONSOLE_APPROVER_GROUP_ID = 'c0a5011e-a992-4f0e-9d1c-3e4f5a6b7c8d';
/** The group a nightly schedule works through (docs/schedules.md): its members are reset, then removed. */
export const DEMO_REREGISTRATION_GROUP_ID = '8c9d0e1f-2a3b-4c4d-9e5f-6a7b8c9d0e1f';
/** Identity Protection rates this user high risk when the simulator starts. */
export const DEMO_RISKY_UPN = 'joni.sherman@contoso.com';
/** The group the demo Temporary Access Pass policy excludes. */
export const DEMO_NO_PASS_GROUP_ID = '3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b';

/**
 * The built-in demo tenant: one user per situation a service desk meets. Phone numbers are from the
 * fictional 555-01xx range.
 */
export const demoTenant: TenantFile = {
  tenantId: '0b1d2c3e-4f50-4617-8a9b-0c1d2e3f4a5b',
  displayName: 'Contoso (demo)',
  domains: ['contoso.com'],
  groups: [
    { id: DEMO_PROTECTED_GROUP_ID, displayName: 'Executives (protected)' },
    { id: '6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d', displayName: 'Board office', memberOf: ['Executives (protected)'] },
    { id: '7b8c9d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e', displayName: 'All staff' },
    { id: DEMO_CONSOLE_READER_GROUP_ID, displayName: 'MFA reset console readers' },
    { id: DEMO_PASS_COLLECTOR_GROUP_ID, displayName: 'Temporary Access Pass collectors' },
    { id: DEMO_CONSOLE_OPERATOR_GROUP_ID, displayName: 'MFA reset console operators' },
    { id: DEMO_CONSOLE_APPROVER_GROUP_ID, displayName: 'MFA reset console approvers' },
    { id: DEMO_REREGISTRATION_GROUP_ID, displayName: 'MFA re-registration required' },
    // PIM for Groups: Christie may activate membership of this role-assignable group, and with it its role.
    { id: 'd41c7a2e-58b0-4f3a-9c61-2e7b05f8a9d3', displayName: 'Tier 0 admins (PIM)', isAssignableToRole: true, roles: ['Privileged Role Administrator'], eligibleMembers: ['christie.cline@contoso.com'] },
    { id: DEMO_NO_PASS_GROUP_ID, displayName: 'No Temporary Access Pass' },
  ],
  // Entra's default policy (all users), minus one group: a pass for its member is refused up front.
  temporaryAccessPassPolicy: { includeTargets: ['all_users'], excludeTargets: ['No Temporary Access Pass'] },
  // Only administrators scoped to this unit may change its members: no application may.
  administrativeUnits: [{ id: '2b3c4d5e-6f70-4a81-9b2c-3d4e5f6a7b8c', displayName: 'Executive office (restricted)', isMemberManagementRestricted: true, members: ['debra.berger@contoso.com'] }],
  applications: [{ displayName: 'Payroll sync', owners: ['allan.deyoung@contoso.com'] }],
  servicePrincipals: [
    { displayName: 'Payroll sync', application: 'Payroll sync', graphPermissions: ['Directory.ReadWrite.All'] },
    { displayName: 'Reporting bot', owners: ['emily.braun@contoso.com'], roles: ['Privileged Role Administrator'] },
  ],
  users: [
    {
      userPrincipalName: 'lidia.holloway@contoso.com',
      manager: 'nestor.wilke@contoso.com',
      displayName: 'Lidia Holloway',
      note: 'lost her phone, the common case: mobile, Authenticator (default) and a software OATH code on it; portal removes them all: completed',
      groups: ['All staff'],
      defaultMethod: 'push',
      methods: [
        { type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550181' },
        { type: 'microsoftAuthenticator', displayName: 'iPhone 15 Pro', deviceTag: 'SoftwareTokenActivated' },
        { type: 'softwareOath' },
      ],
    },
    {
      userPrincipalName: 'adele.vance@contoso.com',
      manager: 'nestor.wilke@contoso.com',
      displayName: 'Adele Vance',
      note: 'lost her phone: mobile + alternate mobile, Authenticator (default), software OATH, FIDO2 key, email',
      groups: ['All staff'],
      defaultMethod: 'push',
      methods: [
        { type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550101' },
        { type: 'phone', phoneType: 'alternateMobile', phoneNumber: '+1 4255550102' },
        { type: 'microsoftAuthenticator', displayName: 'Pixel 8', deviceTag: 'SoftwareTokenActivated' },
        { type: 'softwareOath' },
        { type: 'fido2', displayName: 'YubiKey 5 NFC', model: 'YubiKey 5 NFC' },
        { type: 'email', emailAddress: 'adele.personal@example.net' },
      ],
    },
    {
      userPrincipalName: 'megan.bowen@contoso.com',
      manager: 'nestor.wilke@contoso.com',
      displayName: 'Megan Bowen',
      note: 'SMS to her mobile is the default; office phone, hardware OATH token, Windows Hello',
      groups: ['All staff'],
      defaultMethod: 'sms',
      methods: [
        { type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550111' },
        { type: 'phone', phoneType: 'office', phoneNumber: '+1 4255550112' },
        { type: 'hardwareOath', displayName: 'Token 2 C302', serialNumber: 'C302-00471234', manufacturer: 'Token2' },
        { type: 'windowsHelloForBusiness', displayName: 'MEGAN-LAPTOP' },
      ],
    },
    {
      userPrincipalName: "patti.o'neil@contoso.com",
      displayName: "Patti O'Neil",
      note: 'apostrophe in the UPN; a Temporary Access Pass and a platform credential',
      groups: ['All staff'],
      methods: [
        { type: 'microsoftAuthenticator', displayName: 'iPhone 15' },
        { type: 'temporaryAccessPass', lifetimeInMinutes: 480, isUsableOnce: false },
        { type: 'platformCredential', displayName: 'PATTI-MBP' },
      ],
    },
    {
      userPrincipalName: 'lee.gu@contoso.com',
      displayName: 'Lee Gu',
      note: 'a method of a type this project does not know yet, and an external authentication method',
      groups: ['All staff'],
      methods: [
        { type: 'phone', phoneType: 'mobile', phoneNumber: '+44 7700900123' },
        { type: 'externalAuthentication', displayName: 'Contoso RSA bridge' },
        { type: 'other', odataType: '#microsoft.graph.futureBadgeAuthenticationMethod', displayName: 'Door badge' },
      ],
    },
    {
      userPrincipalName: 'alex.wilber_fabrikam.com#EXT#@contoso.com',
      displayName: 'Alex Wilber (Fabrikam)',
      userType: 'Guest',
      note: 'a guest (refused): #EXT# in the UPN',
      methods: [{ type: 'email', emailAddress: 'alex.wilber@fabrikam.com' }],
    },
    {
      userPrincipalName: 'globaladmin@contoso.com',
      displayName: 'Global Administrator',
      note: 'holds Global Administrator (refused)',
      roles: ['Global Administrator'],
      methods: [{ type: 'microsoftAuthenticator', displayName: 'Admin phone' }, { type: 'fido2', displayName: 'Admin key' }],
    },
    {
      userPrincipalName: 'isaiah.langer@contoso.com',
      displayName: 'Isaiah Langer',
      note: 'Helpdesk Administrator (refused: Authentication Administrators cannot reset other admins)',
      roles: ['Helpdesk Administrator'],
      methods: [{ type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550131' }],
    },
    {
      userPrincipalName: 'christie.cline@contoso.com',
      displayName: 'Christie Cline',
      note: 'PIM-eligible member of the role-assignable Tier 0 admins (PIM) group (refused: after signing in with a pass she could activate it)',
      methods: [{ type: 'microsoftAuthenticator', displayName: 'iPhone 14' }],
    },
    {
      userPrincipalName: DEMO_BREAK_GLASS_UPN,
      displayName: 'Emergency access',
      note: 'break-glass account (refused when listed in BREAK_GLASS_UPNS)',
      methods: [{ type: 'fido2', displayName: 'Break-glass key 1' }],
    },
    {
      userPrincipalName: 'lynne.robbins@contoso.com',
      displayName: 'Lynne Robbins',
      note: 'in the Board office group, nested in the protected Executives group (refused when protected)',
      groups: ['Board office'],
      methods: [{ type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550141' }, { type: 'microsoftAuthenticator', displayName: 'Galaxy S24' }],
    },
    {
      userPrincipalName: 'diego.siciliani@contoso.com',
      displayName: 'Diego Siciliani',
      note: 'an office phone that cannot be deleted keeps the default Authenticator too: partial, both named',
      groups: ['All staff'],
      methods: [
        { type: 'microsoftAuthenticator', displayName: 'Pixel 7' },
        { type: 'phone', phoneType: 'office', phoneNumber: '+1 4255550151', undeletable: 'refuse' },
      ],
    },
    {
      userPrincipalName: 'grady.archie@contoso.com',
      displayName: 'Grady Archie',
      note: 'service desk agent: signs in to the console, may reveal passes (collector group) and ask to finish a partial reset (operator group)',
      groups: ['Temporary Access Pass collectors', 'MFA reset console operators'],
      methods: [{ type: 'microsoftAuthenticator', displayName: 'Surface Duo' }],
    },
    {
      userPrincipalName: 'johanna.lorenz@contoso.com',
      displayName: 'Johanna Lorenz',
      note: 'security lead: views the console (reader group), may not reveal passes',
      groups: ['MFA reset console readers'],
      methods: [{ type: 'fido2', displayName: 'YubiKey 5C' }],
    },
    {
      userPrincipalName: 'delia.dennis@contoso.com',
      displayName: 'Delia Dennis',
      note: 'service desk lead: views the console and approves a finish an agent asked for (approver group)',
      groups: ['MFA reset console approvers'],
      methods: [{ type: 'microsoftAuthenticator', displayName: 'Pixel 9 Pro' }],
    },
    {
      userPrincipalName: 'pradeep.gupta@contoso.com',
      displayName: 'Pradeep Gupta',
      note: 'signs in but is in neither console group: sees nothing (403)',
      methods: [{ type: 'microsoftAuthenticator', displayName: 'iPhone 14' }],
    },
    {
      userPrincipalName: 'it.notifications@contoso.com',
      displayName: 'IT notifications',
      note: 'the mailbox reset notices are sent from (NOTIFY_SENDER_UPN under npm start)',
      methods: [],
    },
    {
      userPrincipalName: 'miriam.graham@contoso.com',
      displayName: 'Miriam Graham',
      note: 'in the group MFA re-registration required: a group schedule resets her and takes her out of it',
      groups: ['MFA re-registration required'],
      methods: [
        { type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550161' },
        { type: 'microsoftAuthenticator', displayName: 'Pixel 6', deviceTag: 'SoftwareTokenActivated' },
      ],
    },
    {
      userPrincipalName: 'henrietta.mueller@contoso.com',
      displayName: 'Henrietta Mueller',
      note: 'in the group MFA re-registration required, with a software OATH token',
      groups: ['MFA re-registration required'],
      methods: [{ type: 'microsoftAuthenticator', displayName: 'iPhone 13' }, { type: 'softwareOath' }],
    },
    {
      userPrincipalName: DEMO_RISKY_UPN,
      displayName: 'Joni Sherman',
      note: 'Identity Protection rates her high risk: a risky-users schedule resets her once, and again only after her risk is raised again',
      riskLevel: 'high',
      methods: [
        { type: 'phone', phoneType: 'mobile', phoneNumber: '+1 4255550171' },
        { type: 'microsoftAuthenticator', displayName: 'Galaxy S23', deviceTag: 'SoftwareTokenActivated' },
      ],
    },
    {
      userPrincipalName: 'irvin.sayers@contoso.com',
      displayName: 'Irvin Sayers',
      note: 'frontline worker who signs in with QR code + PIN: kept under portal (the admin center does not remove it), removed under all',
      methods: [{ type: 'qrCodePin' }],
    },
    {
      userPrincipalName: 'enrico.cattaneo@contoso.com',
      displayName: 'Enrico Cattaneo',
      note: 'in a group the Temporary Access Pass policy excludes: a reset with a pass is refused before anything is removed',
      groups: ['No Temporary Access Pass'],
      methods: [{ type: 'microsoftAuthenticator', displayName: 'Pixel 9' }],
    },
    {
      userPrincipalName: 'debra.berger@contoso.com',
      displayName: 'Debra Berger',
      note: 'member of a restricted management administrative unit: refused (only administrators scoped to that unit may change her)',
      methods: [{ type: 'microsoftAuthenticator', displayName: 'iPhone 16' }],
    },
    {
      userPrincipalName: 'allan.deyoung@contoso.com',
      displayName: 'Allan Deyoung',
      note: 'owns the Payroll sync app registration, whose service principal holds Directory.ReadWrite.All: refused as privileged',
      methods: [{ type: 'microsoftAuthenticator', displayName: 'Pixel 8a' }],
    },
    {
      userPrincipalName: 'emily.braun@contoso.com',
      displayName: 'Emily Braun',
      note: 'owns the Reporting bot service principal, which holds Privileged Role Administrator: refused as privileged',
      methods: [{ type: 'microsoftAuthenticator', displayName: 'Galaxy S25' }],
    },
    {
      userPrincipalName: 'nestor.wilke@contoso.com',
      displayName: 'Nestor Wilke',
      note: 'no MFA registered: nothing to do',
      groups: ['All staff'],
      methods: [],
    },
  ],
};
