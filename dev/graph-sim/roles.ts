/** Directory role templates the simulator knows by name; template ids are the same in every tenant. */
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
  'Directory Readers': '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
  'Reports Reader': '4a5d8f65-41da-4de4-8968-e035b65339cf',
  'Message Center Reader': '790c1fb9-7f7d-4f88-86a1-ef1f95c05c1b',
};

export function roleTemplateId(nameOrId: string): string {
  return SIM_ROLE_TEMPLATES[nameOrId] ?? nameOrId.toLowerCase();
}

export function roleName(templateId: string): string {
  return Object.entries(SIM_ROLE_TEMPLATES).find(([, id]) => id === templateId)?.[0] ?? `Role ${templateId}`;
}
