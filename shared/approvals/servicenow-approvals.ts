import { person, type Person } from './identity';
import type { ApprovalRecord } from './decision';

/**
 * ServiceNow's own approval record, as the Business Rule in docs/servicenow.md sends it: the task's `approval`
 * field, and one entry per row of sysapproval_approver for the task (`sysapproval` = the task):
 *
 *   "approvals": [{ "sys_id": "…", "state": "approved", "approver": { "value": "<sys_user sys_id>",
 *                   "display_value": "Ann Approver" }, "approver_email": "ann@contoso.com",
 *                   "approver_user_name": "ann@contoso.com" }]
 *
 * sysapproval_approver.state is one of requested, approved, rejected, cancelled, not requested,
 * not_required, duplicate. Any rejected row declines the request, even if the task says approved.
 * The requester is opened_by, with `opened_by_email` / `opened_by_user_name` when the rule adds them.
 */

type Bag = Record<string, unknown>;

const isBag = (value: unknown): value is Bag => typeof value === 'object' && value !== null && !Array.isArray(value);
const own = (bag: Bag, key: string): unknown => (Object.prototype.hasOwnProperty.call(bag, key) ? bag[key] : undefined);

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (isBag(value)) return text(own(value, 'value'));
  return undefined;
}

function display(value: unknown): string | undefined {
  if (isBag(value)) return text(own(value, 'display_value'));
  return undefined;
}

/** sys_ids are per instance; user names are e-mail-like in Entra-synced instances, else kept apart. */
function serviceNowPerson(reference: unknown, email: unknown, userName: unknown, name?: unknown): Person {
  const sysId = text(reference);
  const user = text(userName);
  return person({
    name: text(name) ?? display(reference) ?? user,
    emails: [text(email), user?.includes('@') ? user : undefined],
    ids: [sysId ? `sn:${sysId}` : undefined, user && !user.includes('@') ? `sn-user:${user}` : undefined],
  });
}

export function serviceNowApprovalRecord(body: Bag, record: Bag): ApprovalRecord {
  const approval = text(own(record, 'approval'))?.toLowerCase();
  const rowsValue = own(body, 'approvals') ?? own(record, 'approvals');
  const rows = Array.isArray(rowsValue) ? rowsValue.filter(isBag) : undefined;

  const rejected = (rows ?? []).filter((row) => text(own(row, 'state'))?.toLowerCase() === 'rejected');
  if (approval === 'rejected' || rejected.length > 0) {
    const by = rejected.map((row) => display(own(row, 'approver')) ?? text(own(row, 'approver_email')) ?? text(own(row, 'approver'))).filter(Boolean);
    return { state: 'declined', detail: by.length > 0 ? `rejected in sysapproval_approver by ${by.join(', ')}` : 'approval = rejected' };
  }

  const approvedRows = (rows ?? []).filter((row) => text(own(row, 'state'))?.toLowerCase() === 'approved');
  if (approval === 'approved') {
    if (rows === undefined) return { state: 'pending', detail: 'approval = approved, but the Business Rule sent no sysapproval_approver rows ("approvals"), so no approver can be checked' };
    if (approvedRows.length === 0) return { state: 'pending', detail: 'approval = approved, but no sysapproval_approver row is approved' };
    return {
      state: 'approved',
      detail: `approved in sysapproval_approver`,
      approvers: approvedRows.map((row) => serviceNowPerson(own(row, 'approver'), own(row, 'approver_email'), own(row, 'approver_user_name'), own(row, 'approver_name'))),
    };
  }
  if (approval === undefined && rows === undefined) return { state: 'none' };
  return { state: 'pending', detail: `approval = ${approval ?? 'not set'}` };
}

/** Who asked: opened_by, with the e-mail and user name the Business Rule adds. */
export function serviceNowRequesters(body: Bag, record: Bag): Person[] {
  const pick = (key: string) => own(record, key) ?? own(body, key);
  const requester = serviceNowPerson(pick('opened_by'), pick('opened_by_email'), pick('opened_by_user_name'));
  return requester.ids.length > 0 ? [requester] : [];
}

/** An approver the body names outside the record: `approved_by` or `approvedBy`. */
export function serviceNowClaimedApprover(body: Bag, record: Bag): string | undefined {
  for (const bag of [record, body]) {
    for (const key of ['approved_by', 'approvedBy']) {
      const value = own(bag, key);
      const claimed = text(value) ?? display(value);
      if (claimed) return claimed;
    }
  }
  return undefined;
}
