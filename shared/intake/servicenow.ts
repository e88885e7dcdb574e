import { targetKey, type NormalizedRequest, type Requester } from '../requests/canonical-request';
import { fieldError } from '../http/answer';
import { serviceNowApproval } from './approval-gate';
import { clip, isRecord, own, type Adapter } from './adapter';
import { idempotencyKeys } from './request-id';

/**
 * ServiceNow: a record shaped as the Table API returns it, sent by a Business Rule or a Flow. Values
 * are strings; reference fields come as a raw sys_id, `{ value, link }` or `{ value, display_value }`.
 * Accepted bare or wrapped as `{ result: {...} }`; the Business Rule may add top-level `table`,
 * `instance_url` and `timestamp` (see docs/servicenow.md).
 *
 * The target UPN is read from SERVICENOW_TARGET_FIELD (a dot path into the body, like
 * `variables.target_upn`). Reference fields cannot be dot-walked here: the Business Rule must put the
 * user's sign-in name itself into the body.
 */

const SYS_ID = /^[0-9a-f]{32}$/i;
const NUMBER = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const TABLE = /^[a-z][a-z0-9_]{0,79}$/;
const EMAIL = /^[^\s@]{1,128}@[^\s@]{1,127}$/;

/** Tables by their number prefix, for bodies that do not name their table. */
const TABLE_BY_PREFIX: Record<string, string> = {
  INC: 'incident',
  RITM: 'sc_req_item',
  REQ: 'sc_request',
  SCTASK: 'sc_task',
  TASK: 'task',
  CHG: 'change_request',
  CS: 'sn_customerservice_case',
  HRC: 'sn_hr_core_case',
};

export const serviceNowAdapter: Adapter = ({ body, settings, signedAt }) => {
  const wrapped = isRecord(own(body, 'result'));
  const record = wrapped ? (own(body, 'result') as Record<string, unknown>) : body;
  const at = (path: string) => (wrapped ? `result.${path}` : path);

  const number = stringValue(own(record, 'number'));
  if (!number) throw fieldError(at('number'), 'is missing: the record number (like RITM0010001) identifies the ticket');
  if (!NUMBER.test(number)) throw fieldError(at('number'), 'must be a record number like RITM0010001');

  const sysId = stringValue(own(record, 'sys_id'));
  if (!sysId) throw fieldError(at('sys_id'), "is missing: the record's sys_id is kept for writing back to the ticket");
  if (!SYS_ID.test(sysId)) throw fieldError(at('sys_id'), 'must be a sys_id (32 hexadecimal characters)');

  const declaredTable = stringValue(own(body, 'table')) ?? stringValue(own(record, 'sys_class_name'));
  const table = declaredTable ?? TABLE_BY_PREFIX[number.replace(/[0-9].*$/, '').toUpperCase()];
  if (!table) throw fieldError('table', `is missing and cannot be told from the number ${number}: add "table" (like sc_req_item) to the body`);
  if (!TABLE.test(table)) throw fieldError(declaredTable === stringValue(own(body, 'table')) ? 'table' : at('sys_class_name'), 'must be a table name like sc_req_item');

  const fieldPath = settings.SERVICENOW_TARGET_FIELD;
  const raw = valueAtPath(record, fieldPath) ?? (wrapped ? valueAtPath(body, fieldPath) : undefined);
  const upn = stringValue(raw);
  if (!upn) {
    throw fieldError(
      at(fieldPath),
      `is empty or missing: the field ${fieldPath} (SERVICENOW_TARGET_FIELD) must hold the sign-in name of the user to reset`,
    );
  }
  if (SYS_ID.test(upn) && !upn.includes('@')) {
    throw fieldError(
      at(fieldPath),
      `holds a reference (a sys_id), not a sign-in name: in the Business Rule, dot-walk to the user's user_name or email and send that`,
    );
  }

  // The task's approval and its sysapproval_approver rows (sent by the Business Rule) decide; a rejection always refuses.
  const approvedBy = serviceNowApproval(body, record, number.toUpperCase(), { userPrincipalName: upn }, settings.REQUIRE_APPROVAL);

  const requestedBy = referenceRequester(own(record, 'opened_by')) ?? plainRequester(own(record, 'sys_updated_by'));
  if (!requestedBy) throw fieldError(at('opened_by'), 'is missing: the request must name who asked (opened_by or sys_updated_by)');

  const shortDescription = stringValue(own(record, 'short_description'));
  const request: NormalizedRequest = {
    ticket: { system: 'servicenow', id: number.toUpperCase(), url: recordUrl(body, record, table, sysId), sysId: sysId.toLowerCase(), table, ...assigneeOf(body, record) },
    target: { userPrincipalName: upn },
    requestedBy,
    approvedBy,
    reason: shortDescription ? clip(shortDescription, 2000) : undefined,
    profile: 'portal',
    revokeSessions: true,
    dryRun: false,
  };
  return {
    source: 'servicenow',
    request,
    // The signed timestamp makes each delivery its own; repeats of one ticket meet in its lineage.
    idempotencyKey: idempotencyKeys.serviceNowDelivery(table, sysId, signedAt ?? 0, targetKey(request.target)),
  };
};

/**
 * The task's assignee as the Business Rule sends it (`assigned_to_email`, dot-walked from assigned_to):
 * the console compares it with the sign-in name of whoever reveals a pass. `assigned_to` itself is a
 * sys_id or a display name and cannot be compared, so it is not recorded.
 */
function assigneeOf(body: Record<string, unknown>, record: Record<string, unknown>): { assignee?: string } {
  const email = stringValue(own(record, 'assigned_to_email')) ?? stringValue(own(body, 'assigned_to_email'));
  return email && EMAIL.test(email) ? { assignee: email.toLowerCase() } : {};
}

/** A field's raw value: the string itself, or `value` of a `{ value, link }` / `{ value, display_value }` object. */
function stringValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (isRecord(value)) return stringValue(own(value, 'value'));
  return undefined;
}

function valueAtPath(root: Record<string, unknown>, path: string): unknown {
  if (Object.prototype.hasOwnProperty.call(root, path)) return root[path];
  let current: unknown = root;
  for (const part of path.split('.')) {
    if (!isRecord(current)) return undefined;
    current = own(current, part);
  }
  return current;
}

function referenceRequester(value: unknown): Requester | undefined {
  if (typeof value === 'string') return plainRequester(value);
  if (!isRecord(value)) return undefined;
  const id = stringValue(own(value, 'value'));
  const display = own(value, 'display_value');
  const name = typeof display === 'string' && display.trim() !== '' ? display.trim() : id;
  if (!name) return undefined;
  return { id: id ? clip(id, 256) : undefined, name: clip(name, 256) };
}

function plainRequester(value: unknown): Requester | undefined {
  const text = stringValue(value);
  if (!text) return undefined;
  return SYS_ID.test(text) ? { id: text, name: text } : { name: clip(text, 256) };
}

/** The record's form link, from `instance_url` or the origin of any reference link in the record. */
function recordUrl(body: Record<string, unknown>, record: Record<string, unknown>, table: string, sysId: string): string | undefined {
  const origin = originOf(stringValue(own(body, 'instance_url'))) ?? firstLinkOrigin(record);
  return origin ? `${origin}/${table}.do?sys_id=${sysId.toLowerCase()}` : undefined;
}

function firstLinkOrigin(record: Record<string, unknown>): string | undefined {
  for (const value of Object.values(record)) {
    if (!isRecord(value)) continue;
    const link = own(value, 'link');
    const origin = typeof link === 'string' ? originOf(link) : undefined;
    if (origin) return origin;
  }
  return undefined;
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
  } catch {
    return undefined;
  }
}
