import type { Settings } from '../config';
import { errorAnswer, type HttpAnswer } from '../http/answer';
import { consoleAuthority } from './authority';
import { ConsoleTokenValidator, TokenRejected, type Person } from './token-validation';

/** What a console route needs the caller to be allowed. */
export type ConsoleRole = 'reader' | 'collector';
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
  deps: { settings: Settings; validator: ConsoleTokenValidator | undefined },
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
  const allowed = need === 'person' ? true : need === 'collector' ? roles.includes('collector') : roles.length > 0;
  if (!allowed) {
    const group = need === 'collector' ? 'PASS_COLLECTOR_GROUP_ID' : 'CONSOLE_READER_GROUP_ID (or PASS_COLLECTOR_GROUP_ID)';
    return refuse(403, 'not_in_group', `${person.userPrincipalName} is signed in but not a member of the group ${group} names; an admin grants it by adding the person to that group`);
  }
  return { person: { ...person, roles } };
}

/** Readers view; collectors view and reveal passes. A group setting left empty grants nothing. */
export function rolesOf(person: Person, settings: Settings): ConsoleRole[] {
  const roles: ConsoleRole[] = [];
  const reader = settings.CONSOLE_READER_GROUP_ID?.toLowerCase();
  const collector = settings.PASS_COLLECTOR_GROUP_ID?.toLowerCase();
  if (reader && person.groups.includes(reader)) roles.push('reader');
  if (collector && person.groups.includes(collector)) roles.push('collector');
  return roles;
}

export function validatorFor(settings: Settings): ConsoleTokenValidator | undefined {
  const authority = consoleAuthority(settings);
  return authority ? new ConsoleTokenValidator(authority) : undefined;
}

function refuse(status: 401 | 403, code: string, message: string, challenge?: string): { answer: HttpAnswer } {
  return { answer: errorAnswer(status, code, message, undefined, { ...NO_STORE, ...(challenge ? { 'www-authenticate': challenge } : {}) }) };
}
