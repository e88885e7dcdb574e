import { z } from 'zod';

/**
 * Every setting the app reads, in one schema. Infra sets exactly these names (a test checks both sides),
 * so a setting added here must also be added to infra/ and local.settings.example.json.
 */

const list = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(/[,;\s]+/)
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .optional()
    .transform((value) => (value === undefined || value === '' ? fallback : ['true', '1', 'yes'].includes(value)));

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed <= 0) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a positive whole number, got "${value}"` });
        return z.NEVER;
      }
      return parsed;
    });

const optionalSecret = z
  .string()
  .optional()
  // App Service passes an unresolved Key Vault reference through as its literal text; using that as the
  // secret would make the template's text the secret.
  .refine((value) => !value?.startsWith('@Microsoft.KeyVault('), {
    message: 'is an unresolved Key Vault reference: give the app identity the Key Vault Secrets User role and check the secret exists',
  })
  .transform((value) => (value && value.trim().length > 0 ? value : undefined));

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const settingsSchema = z
  .object({
    /** Connection string (Azurite or an account key); or leave it unset and use the identity-based settings below. */
    AzureWebJobsStorage: z.string().optional(),
    AzureWebJobsStorage__accountName: z.string().optional(),
    AzureWebJobsStorage__tableServiceUri: z.string().url().optional(),
    AzureWebJobsStorage__queueServiceUri: z.string().url().optional(),
    AzureWebJobsStorage__blobServiceUri: z.string().url().optional(),
    AzureWebJobsStorage__credential: z.enum(['managedidentity']).optional(),
    AzureWebJobsStorage__clientId: z.string().regex(guid, 'must be a client id (GUID)').optional(),

    /** Origin of Microsoft Graph; the app appends /v1.0 and /beta itself. */
    GRAPH_BASE_URL: z.string().url().default('https://graph.microsoft.com'),
    /** `default`: DefaultAzureCredential (managed identity in Azure). `none`: no token, loopback simulators only. */
    GRAPH_AUTH: z.enum(['default', 'none']).default('default'),
    /** Client id of the user-assigned managed identity; DefaultAzureCredential reads it too. */
    AZURE_CLIENT_ID: z.string().regex(guid, 'must be a client id (GUID)').optional(),

    WEBHOOK_SECRET_JIRA: optionalSecret,
    WEBHOOK_SECRET_SERVICENOW: optionalSecret,
    WEBHOOK_SECRET_GENERIC: optionalSecret,
    /**
     * 32 random bytes, Base64: seals an issued Temporary Access Pass until the requester collects it.
     * Without it, requests for a pass are refused, since the pass could not be handed over safely.
     */
    TAP_SEALING_KEY: optionalSecret.refine((value) => value === undefined || Buffer.from(value, 'base64').length === 32, {
      message: 'must be 32 random bytes in Base64 (for example: openssl rand -base64 32)',
    }),
    /** Accept unsigned webhooks from sources without a secret. Only for a local demo; refused outside loopback. */
    LOCAL_DEMO_MODE: flag(false),

    JIRA_TARGET_FIELD: z.string().min(1).default('customfield_10050'),
    SERVICENOW_TARGET_FIELD: z.string().min(1).default('u_target_upn'),

    TENANT_DOMAINS: list,
    REQUIRE_APPROVAL: flag(false),
    PROTECTED_GROUP_IDS: list.pipe(z.array(z.string().regex(guid, 'each entry must be a group object id (GUID)'))),
    BREAK_GLASS_UPNS: list,

    /** At most this many resets of one user within RESET_COOLDOWN_MINUTES; the next is refused. */
    RESET_COOLDOWN_MAX: positiveInt(3),
    RESET_COOLDOWN_MINUTES: positiveInt(1440),
    /** Graph calls one reset makes at once. */
    GRAPH_MAX_CONCURRENCY: positiveInt(4),
    /** A Retry-After longer than this is not slept through: the request is re-queued for later. */
    GRAPH_MAX_INLINE_WAIT_SECONDS: positiveInt(10),
    /** A worker holds a request this long without writing progress; then another may take it over. */
    RESET_LEASE_SECONDS: positiveInt(120).pipe(z.number().min(10, 'must be at least 10 seconds')),
    /** Default pace of bulk remediation, in users released per minute. */
    BULK_RATE_PER_MINUTE: positiveInt(600),
    /** Directory writes per second the whole app sends to Graph (every instance together). */
    GRAPH_WRITE_BUDGET_PER_SECOND: positiveInt(20),

    /**
     * Operator console (people sign in with Entra ID). The tenant people sign in to and the console's
     * app registration (client id = the audience of its access tokens); the console is off until both are set.
     */
    CONSOLE_TENANT_ID: z.string().regex(guid, 'must be the directory (tenant) id, a GUID').optional(),
    CONSOLE_CLIENT_ID: z.string().regex(guid, "must be the console app registration's application (client) id, a GUID").optional(),
    /** Where sign-in happens: the Entra authority host of the tenant's cloud, or the local stand-in identity provider. */
    CONSOLE_AUTHORITY_HOST: z.string().url('must be a URL such as https://login.microsoftonline.com').default('https://login.microsoftonline.com'),
    /** Members may view the console: requests, audit, bulk jobs, health. */
    CONSOLE_READER_GROUP_ID: z.string().regex(guid, 'must be a group object id (GUID)').optional(),
    /** Members may view the console and reveal a Temporary Access Pass to hand it to its user. */
    PASS_COLLECTOR_GROUP_ID: z.string().regex(guid, 'must be a group object id (GUID)').optional(),
    /** Keep the signed machine route POST /api/resets/{id}/temporary-access-pass; off: passes go only to signed-in collectors. */
    MACHINE_PASS_COLLECTION: flag(false),
  })
  .superRefine((settings, ctx) => {
    const identityBased =
      settings.AzureWebJobsStorage__accountName !== undefined ||
      (settings.AzureWebJobsStorage__tableServiceUri !== undefined && settings.AzureWebJobsStorage__queueServiceUri !== undefined);
    if (!settings.AzureWebJobsStorage && !identityBased) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['AzureWebJobsStorage'],
        message:
          'is not set: give a connection string, or AzureWebJobsStorage__accountName for identity-based access',
      });
    }
    if (settings.GRAPH_AUTH === 'none' && !isLoopbackUrl(settings.GRAPH_BASE_URL)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['GRAPH_AUTH'],
        message: `"none" is accepted only when GRAPH_BASE_URL is a loopback address, not ${settings.GRAPH_BASE_URL}`,
      });
    }
    if ((settings.CONSOLE_TENANT_ID === undefined) !== (settings.CONSOLE_CLIENT_ID === undefined)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [settings.CONSOLE_TENANT_ID === undefined ? 'CONSOLE_TENANT_ID' : 'CONSOLE_CLIENT_ID'],
        message: 'is not set: the console needs both CONSOLE_TENANT_ID and CONSOLE_CLIENT_ID (or neither, to stay off)',
      });
    }
    if (!isLoopbackUrl(settings.CONSOLE_AUTHORITY_HOST) && !ENTRA_AUTHORITY_HOSTS.includes(originOf(settings.CONSOLE_AUTHORITY_HOST))) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['CONSOLE_AUTHORITY_HOST'],
        message: `"${settings.CONSOLE_AUTHORITY_HOST.slice(0, 200)}" is not a Microsoft Entra authority: use one of ${ENTRA_AUTHORITY_HOSTS.join(', ')} (whoever it names decides who may reveal passes), or a loopback stand-in such as http://127.0.0.1:7072`,
      });
    }
    if (settings.LOCAL_DEMO_MODE && !isLoopbackUrl(settings.GRAPH_BASE_URL)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['LOCAL_DEMO_MODE'],
        message: 'accepts unsigned webhooks and is allowed only against a local Graph simulator',
      });
    }
  });

export type Settings = z.output<typeof settingsSchema>;

/** The setting names the app reads; infra and the example settings file must set the same. */
export const settingNames = Object.keys(settingsSchema.innerType().shape) as (keyof Settings)[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const known: Record<string, string | undefined> = {};
  // An empty value (as local.settings.json and portal forms leave them) means "not set".
  for (const name of settingNames) known[name] = env[name] === '' ? undefined : env[name];
  const parsed = settingsSchema.safeParse(known);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'settings'} ${issue.message}`));
  }
  return parsed.data;
}

/** Entra ID authority hosts of the public and national clouds (login.microsoftonline.com and its peers). */
export const ENTRA_AUTHORITY_HOSTS: readonly string[] = [
  'https://login.microsoftonline.com',
  'https://login.microsoftonline.us',
  'https://login.partner.microsoftonline.cn',
];

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}
