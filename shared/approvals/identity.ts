/**
 * People in approval decisions: a display name plus every identifier the ticket system gave for them
 * (UPN or e-mail, Jira account id, ServiceNow sys_id or user name). Two people are the same when any
 * identifier matches, compared case-insensitively; a display name alone identifies nobody, since
 * anyone can share or type one.
 */
export interface Person {
  name?: string;
  /** Lower-cased identifiers, each prefixed by its kind where the kinds could collide (`jira:`, `sn:`). */
  ids: string[];
}

export function person(parts: { name?: string; emails?: (string | undefined)[]; ids?: (string | undefined)[] }): Person {
  const ids = new Set<string>();
  for (const email of parts.emails ?? []) {
    const value = email?.trim().toLowerCase();
    if (value) ids.add(value);
  }
  for (const id of parts.ids ?? []) {
    const value = id?.trim().toLowerCase();
    if (value) ids.add(value);
  }
  const name = parts.name?.trim();
  return { ...(name ? { name } : {}), ids: [...ids] };
}

export function samePerson(a: Person, b: Person): boolean {
  return a.ids.some((id) => b.ids.includes(id));
}

export function identifiable(p: Person): boolean {
  return p.ids.length > 0;
}

/**
 * How an approver is written into `approvedBy` (and so into the audit): `Name <id, id>`. The worker
 * reads the identifiers back to compare them with the resolved target (approvedTargets below).
 */
export function renderPerson(p: Person): string {
  // Angle brackets in a display name would read back as identifiers.
  const name = (p.name ?? p.ids[0] ?? 'unknown').replace(/[<>]/g, '');
  return p.ids.length > 0 ? `${name} <${p.ids.join(', ')}>` : name;
}

/** The identifiers and names an `approvedBy` text names, for the worker's check against the target. */
export function namedInApproval(approvedBy: string): { ids: string[]; names: string[] } {
  const ids: string[] = [];
  const names: string[] = [];
  const pattern = /([^<,][^<]*?)?\s*<([^>]*)>/g;
  let consumed = '';
  for (const match of approvedBy.matchAll(pattern)) {
    consumed += match[0];
    if (match[1]) names.push(match[1].replace(/^[\s,]+/, '').trim().toLowerCase());
    for (const id of match[2]!.split(',')) if (id.trim()) ids.push(id.trim().toLowerCase());
  }
  // A generic caller's approvedBy is a plain UPN or e-mail, not rendered: take it whole.
  if (consumed === '') {
    const whole = approvedBy.trim().toLowerCase();
    if (whole.includes('@')) ids.push(whole);
    else names.push(whole);
  }
  return { ids, names: names.filter((n) => n.length > 0) };
}

/**
 * Whether the approver recorded in `approvedBy` is the user being reset, now that the directory has
 * said who that is (a ticket may name the target by object id, and Jira hides e-mail addresses).
 */
export function approvalNamesTarget(approvedBy: string, target: { userPrincipalName: string; objectId: string; displayName?: string; aliases?: readonly string[] }): boolean {
  const { ids, names } = namedInApproval(approvedBy);
  const targetIds = [target.userPrincipalName, target.objectId, ...(target.aliases ?? [])].filter((v): v is string => !!v).map((v) => v.toLowerCase());
  // `jira:`/`sn:` prefixed ids never equal an address; a bare one after a prefix may (sn-user:jdoe@…).
  if (ids.some((id) => targetIds.includes(id) || targetIds.some((t) => id.endsWith(`:${t}`)))) return true;
  const display = target.displayName?.trim().toLowerCase();
  return display !== undefined && display !== '' && names.includes(display);
}

/**
 * Whether the approver recorded in `approvedBy` is the requester, by any identifier either was given
 * under (case-blind; `jira:`/`sn:` prefixes on one side only still match).
 */
export function approvalNamesRequester(approvedBy: string, requester: readonly (string | undefined)[]): boolean {
  const { ids } = namedInApproval(approvedBy);
  const said = requester.map((value) => value?.trim().toLowerCase()).filter((value): value is string => !!value);
  return ids.some((id) => said.some((value) => id === value || id.endsWith(`:${value}`) || value.endsWith(`:${id}`)));
}

/** "Lisa Taylor <jira:5b10…, lisa@contoso.com>" (renderPerson's form) → "Lisa Taylor": the name people know, not the ids. */
export function displayName(text: string): string {
  const name = text.replace(/\s*<[^>]*>/g, '').trim();
  return name || text;
}
