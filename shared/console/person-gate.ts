import type { Settings } from '../config';
import { errorAnswer, type HttpAnswer } from '../http/answer';
import { consoleAuthority } from './authority';
import type { GroupNames } from './group-names';
import { ConsoleTokenValidator, TokenRejected, type Person } from './token-validation';

/**
 * What a console route needs the caller to be allowed. Every role may view; collectors also reveal
 * passes, operators ask to finish a partial reset, approvers approve a finish someone else asked for.
 */
export type ConsoleRole = 'reader' | 'collector' | 'operator' | 'approver';
/** `person`: any signed-in person of the tenant; the route decides who may act (a manager attesting). */
export type ConsoleNeed = ConsoleRole | 'person';

export interface SignedInPerson extends Person {
  roles: ConsoleRole[];
}

/** The request as the gate sees it: headers and query, nothing Azure-specific. */
export interface GateInput {
  header(name: string): string | null | undefined;
  query(name: string): string | null | undefined;
}

/**
 * Credentials of machines. A console route refuses a request that carries any of them, even beside a
 * valid person's token: no route accepts both (DESIGN section 2), so a leaked function key or a
 * replayed webhook can never be mistaken for, or combined with, a person.
 */
const MACHINE_HEADERS = ['x-functions-key', 'webhook-signature', 'webhook-id', 'x-hub-signature', 'x-servicenow-signature', 'x-signature-256', 'x-automation-webhook-token'];

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * Checks the caller of a console route: machine credentials refused, a bearer access token validated
 * (see ConsoleTokenValidator), then group membership. Returns the person, or the answer to send:
 * 401 for no or a bad token, 403 for a person outside the route's group, 503 when the console is not
 * configured or the tenant's keys cannot be read. Errors say what is wrong, never echo the token.
 */
export async function admitPerson(
  input: GateInput,
  need: ConsoleNeed,
  deps: { settings: Settings; validator: ConsoleTokenValidator | undefined; groupNames?: GroupNames },
): Promise<{ person: SignedInPerson } | { answer: HttpAnswer }> {
  const machine = MACHINE_HEADERS.find((name) => input.header(name));
  if (machine || input.query('code')) {
    return refuse(401, 'machine_credentials_refused', `console routes take a signed-in person's token only, never ${machine ?? 'a function key'}`);
  }
  if (!deps.validator) {
    return { answer: errorAnswer(503, 'console_not_configured', 'the console is off: set CONSOLE_TENANT_ID and CONSOLE_CLIENT_ID', undefined, NO_STORE) };
  }
  const authorization = input.header('authorization') ?? '';
  const bearer = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+)$/.exec(authorization.trim());
  if (!bearer) {
    return refuse(401, 'sign_in_required', 'sign in: send an Entra ID access token for the console as "Authorization: Bearer <token>"', 'Bearer');
  }
  let person: Person;
  try {
    person = await deps.validator.validate(bearer[1]!);
  } catch (error) {
    if (!(error instanceof TokenRejected)) throw error;
    if (error.keysUnavailable) {
      return { answer: errorAnswer(503, 'sign_in_unavailable', `${error.reason}; try again shortly`, undefined, { ...NO_STORE, 'retry-after': '10' }) };
    }
    return refuse(401, 'invalid_token', error.reason, `Bearer error="invalid_token"`);
  }
  const roles = rolesOf(person, deps.settings);
  if (need !== 'person' && !(need === 'reader' ? roles.length > 0 : roles.includes(need))) {
    const groups = await groupsFor(need, deps);
    return refuse(403, 'not_in_group', `${person.userPrincipalName} is signed in but not a member of ${groups}; an admin grants it by adding you to that group`);
  }
  return { person: { ...person, roles } };
}

/** The setting behind each role, in the order the console names them. */
const ROLE_SETTINGS: Record<ConsoleRole, 'CONSOLE_READER_GROUP_ID' | 'PASS_COLLECTOR_GROUP_ID' | 'CONSOLE_OPERATOR_GROUP_ID' | 'CONSOLE_APPROVER_GROUP_ID'> = {
  reader: 'CONSOLE_READER_GROUP_ID',
  collector: 'PASS_COLLECTOR_GROUP_ID',
  operator: 'CONSOLE_OPERATOR_GROUP_ID',
  approver: 'CONSOLE_APPROVER_GROUP_ID',
};

/**
 * Which group to ask for, by its name in the directory where it can be read ("the group \"MFA reset
 * console readers\""), so that a person refused knows what to ask their admin for; the setting's name
 * only where no group is configured at all.
 */
async function groupsFor(need: Exclude<ConsoleNeed, 'person'>, deps: { settings: Settings; groupNames?: GroupNames }): Promise<string> {
  const wanted: ConsoleRole[] = need === 'reader' ? ['reader', 'collector', 'operator', 'approver'] : [need];
  const configured = wanted.map((role) => deps.settings[ROLE_SETTINGS[role]]).filter((id): id is string => !!id);
  if (configured.length === 0) return `a console group (none is configured: ${ROLE_SETTINGS[wanted[0]!]} is empty)`;
  const labels = await Promise.all(configured.map((id) => (deps.groupNames ? deps.groupNames.label(id) : Promise.resolve(`group ${id}`))));
  return labels.length === 1 ? `the group ${labels[0]}` : `any of the groups ${labels.join(', ')}`;
}

/** Readers view; collectors, operators and approvers view and each do their one thing. A group setting left empty grants nothing. */
export function rolesOf(person: Person, settings: Settings): ConsoleRole[] {
  const roles: ConsoleRole[] = [];
  for (const role of Object.keys(ROLE_SETTINGS) as ConsoleRole[]) {
    const group = settings[ROLE_SETTINGS[role]]?.toLowerCase();
    if (group && person.groups.includes(group)) roles.push(role);
  }
  return roles;
}

export function validatorFor(settings: Settings): ConsoleTokenValidator | undefined {
  const authority = consoleAuthority(settings);
  return authority ? new ConsoleTokenValidator(authority) : undefined;
}

function refuse(status: 401 | 403, code: string, message: string, challenge?: string): { answer: HttpAnswer } {
  return { answer: errorAnswer(status, code, message, undefined, { ...NO_STORE, ...(challenge ? { 'www-authenticate': challenge } : {}) }) };
}
