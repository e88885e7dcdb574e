/**
 * Payloads in the shapes the sources really send (trimmed to the fields that matter plus some noise
 * every real payload carries). Jira Cloud bodies carry no e-mail addresses; the target UPN sits in a
 * custom field. ServiceNow bodies are Table-API shaped records built by a Business Rule.
 */

export const JIRA_SITE = 'https://contoso-it.atlassian.net';
export const JIRA_TARGET_FIELD = 'customfield_10050';
export const JIRA_APPROVALS_FIELD = 'customfield_10027';

const agent = {
  self: `${JIRA_SITE}/rest/api/2/user?accountId=5b10ac8d82e05b22cc7d4ef5`,
  accountId: '5b10ac8d82e05b22cc7d4ef5',
  avatarUrls: { '48x48': 'https://secure.gravatar.com/avatar/9f0c2f?d=mm&s=48' },
  displayName: 'Mia Agent',
  active: true,
  timeZone: 'Europe/Berlin',
  accountType: 'atlassian',
};

const reporter = {
  self: `${JIRA_SITE}/rest/api/2/user?accountId=qm%3Aa9c8e1d2-6f5e-4c1b-9a2d-3f4e5d6c7b8a%3A1234`,
  accountId: 'qm:a9c8e1d2-6f5e-4c1b-9a2d-3f4e5d6c7b8a:1234',
  displayName: 'Alex Wilber',
  active: true,
  accountType: 'customer',
};

export function jiraIssue(overrides: { key?: string; target?: unknown; fields?: Record<string, unknown> } = {}) {
  const key = overrides.key ?? 'ITSM-42';
  return {
    id: '10042',
    self: `${JIRA_SITE}/rest/api/2/issue/10042`,
    key,
    fields: {
      statuscategorychangedate: '2026-11-20T09:14:07.212+0100',
      issuetype: { self: `${JIRA_SITE}/rest/api/2/issuetype/10003`, id: '10003', name: 'Service Request', subtask: false },
      project: { self: `${JIRA_SITE}/rest/api/2/project/10000`, id: '10000', key: key.split('-')[0], name: 'IT Service Desk', projectTypeKey: 'service_desk' },
      summary: 'Lost my phone, cannot complete MFA',
      description: 'New phone since Monday, Authenticator shows nothing.',
      priority: { id: '3', name: 'Medium' },
      status: { name: 'Waiting for support', id: '10002', statusCategory: { key: 'new' } },
      labels: ['mfa'],
      reporter,
      creator: reporter,
      assignee: agent,
      created: '2026-11-20T09:14:07.010+0100',
      updated: '2026-11-20T09:20:11.334+0100',
      [JIRA_TARGET_FIELD]: overrides.target === undefined ? 'alex.wilber@contoso.com' : overrides.target,
      customfield_10010: { requestType: { id: '17', name: 'Reset MFA' }, currentStatus: { status: 'Waiting for support' } },
      ...overrides.fields,
    },
  };
}

/** An admin webhook delivery (Settings > System > WebHooks), event issue created. */
export function jiraWebhook(overrides: { key?: string; target?: unknown; event?: string; fields?: Record<string, unknown>; timestamp?: number } = {}) {
  return {
    timestamp: overrides.timestamp ?? Date.now(),
    webhookEvent: overrides.event ?? 'jira:issue_created',
    issue_event_type_name: 'issue_created',
    user: agent,
    issue: jiraIssue(overrides),
  };
}

/** A Jira Service Management approval that ended approved. */
export const jsmApproved = [
  {
    id: '12',
    name: 'Manager approval',
    finalDecision: 'approved',
    canAnswerApproval: false,
    approvers: [
      {
        approver: { accountId: '557058:0f1e2d3c', displayName: 'Megan Bowen', active: true },
        approverDecision: 'approved',
      },
    ],
    createdDate: { iso8601: '2026-11-20T09:15:00+0100', epochMillis: 1795162500000 },
    completedDate: { iso8601: '2026-11-20T09:19:00+0100', epochMillis: 1795162740000 },
  },
];

const SN = 'https://contoso.service-now.com';

/** A requested item as a Business Rule sends it (Table API shape: strings and references). */
export function serviceNowRecord(overrides: Record<string, unknown> = {}) {
  return {
    sys_id: '9d385017c611228701d22104cc95c371',
    number: 'RITM0010023',
    sys_class_name: 'sc_req_item',
    short_description: 'MFA reset: lost phone',
    description: 'User replaced their phone and cannot approve sign-ins.',
    state: '1',
    stage: 'fulfillment',
    approval: 'approved',
    active: 'true',
    priority: '4',
    opened_by: { link: `${SN}/api/now/table/sys_user/6816f79cc0a8016401c5a33be04be441`, value: '6816f79cc0a8016401c5a33be04be441' },
    requested_for: { link: `${SN}/api/now/table/sys_user/62826bf03710200044e0bfc8bcbe5df1`, value: '62826bf03710200044e0bfc8bcbe5df1' },
    assignment_group: { link: `${SN}/api/now/table/sys_user_group/8a5055c9c61122780043563ef53438e3`, value: '8a5055c9c61122780043563ef53438e3' },
    cat_item: { link: `${SN}/api/now/table/sc_cat_item/04b7e94b4f7b4200086eeed18110c7fd`, value: '04b7e94b4f7b4200086eeed18110c7fd' },
    u_target_upn: 'adele.vance@contoso.com',
    // The task's sysapproval_approver rows, as the Business Rule in docs/servicenow.md adds them.
    approvals: [{ sys_id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', state: 'approved', approver: { value: '5137153cc611227c000bbd1bd8cd2005', display_value: 'Fred Luddy' }, approver_email: 'fred.luddy@contoso.com' }],
    sys_created_on: '2026-11-20 08:02:11',
    sys_created_by: 'beth.anglin',
    sys_updated_on: '2026-11-20 08:10:45',
    sys_updated_by: 'beth.anglin',
    sys_mod_count: '3',
    // Added by the Business Rule: the send time, inside the signed bytes.
    timestamp: Date.now(),
    ...overrides,
  };
}

/** The same record read with sysparm_display_value=all, wrapped as the Table API answers. */
export function serviceNowResultWithDisplayValues(overrides: Record<string, unknown> = {}) {
  return {
    timestamp: Date.now(),
    result: {
      sys_id: { display_value: '1c741bd70b2322007518478d83673af3', value: '1c741bd70b2322007518478d83673af3' },
      number: { display_value: 'INC0010112', value: 'INC0010112' },
      short_description: { display_value: 'Stuck in MFA prompt loop', value: 'Stuck in MFA prompt loop' },
      approval: { display_value: 'Not Yet Requested', value: 'not requested' },
      opened_by: {
        display_value: 'Beth Anglin',
        link: `${SN}/api/now/table/sys_user/46d44a23a9fe19810012d100cca80666`,
        value: '46d44a23a9fe19810012d100cca80666',
      },
      u_target_upn: { display_value: 'lynne.robbins@contoso.com', value: 'lynne.robbins@contoso.com' },
      sys_updated_on: { display_value: '2026-11-20 09:10:45', value: '2026-11-20 08:10:45' },
      ...overrides,
    },
  };
}

export function canonicalRequest(overrides: Record<string, unknown> = {}) {
  return {
    ticket: { system: 'freshservice', id: 'SR-1093', url: 'https://contoso.freshservice.com/helpdesk/tickets/1093' },
    target: { userPrincipalName: 'diego.siciliani@contoso.com' },
    requestedBy: { id: 'agent-17', name: 'Isaiah Langer' },
    reason: 'New phone',
    ...overrides,
  };
}
