/**
 * Built-in directory role templates the simulator knows by name; template ids are the same in every
 * tenant, and a built-in role's definition id is its template id. The list is the simulator's own
 * (not shared/graph/roles.ts): the guards must not pass their own tests by sharing a mistake.
 */
export const SIM_ROLE_TEMPLATES: Readonly<Record<string, string>> = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Privileged Authentication Administrator': '7be44c8a-adaf-4e2a-84d6-ab2649e08a13',
  'Privileged Role Administrator': 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  'Authentication Administrator': 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
  'Security Administrator': '194ae4cb-b126-40b2-bd5b-6091b380977d',
  'User Administrator': 'fe930be7-5e62-47db-91af-98c3a49a38b1',
  'Helpdesk Administrator': '729827e3-9c14-49f7-bb1b-9608f156bbb8',
  'Password Administrator': '966707d0-3269-4727-9be2-8c3a10f19b9d',
  'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'Groups Administrator': 'fdd7a751-b60b-444a-984c-02652fe8fa1c',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'Directory Readers': '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
  'Guest Inviter': '95e79109-95c0-4d8e-aee3-d01accf2d47b',
  'Reports Reader': '4a5d8f65-41da-4de4-8968-e035b65339cf',
  'Message Center Reader': '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b',
  'Usage Summary Reports Reader': '75934031-6c7e-415a-99d7-48dbd49e875e',
  'User Experience Success Manager': '27460883-1df1-4691-b032-3b79643e5e63',
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A built-in role's template id from its name or id; undefined for a name the simulator does not know. */
export function builtInTemplateId(nameOrId: string): string | undefined {
  if (SIM_ROLE_TEMPLATES[nameOrId]) return SIM_ROLE_TEMPLATES[nameOrId];
  return GUID.test(nameOrId) ? nameOrId.toLowerCase() : undefined;
}

export function roleName(templateId: string): string {
  return Object.entries(SIM_ROLE_TEMPLATES).find(([, id]) => id === templateId)?.[0] ?? `Role ${templateId}`;
}
