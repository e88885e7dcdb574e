import { z } from 'zod';
import { GRAPH_CLOUDS, graphCloudOf } from './graph-clouds';
import { decodeBase64Key, decodeWebhookSecret, MAKE_ONE, weakKeyProblem, weakTextProblem } from './security/secret-strength';
import { reusedSecrets } from './security/secret-reuse';

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

/** A shared secret typed as text (Jira and ServiceNow keep it as a string): at least 32 random bytes. */
const textSecret = optionalSecret.superRefine((value, ctx) => {
  if (value === undefined) return;
  const problem = weakTextProblem(value);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${problem} (make a good one with: ${MAKE_ONE})` });
});

/** A key given as Base64: at least 32 random bytes (or exactly `bytes`). */
const base64Key = (bytes?: number) =>
  optionalSecret.superRefine((value, ctx) => {
    if (value === undefined) return;
    const key = decodeBase64Key(value);
    const example = `make a good one with: ${MAKE_ONE}`;
    if (!key) return void ctx.addIssue({ code: z.ZodIssueCode.custom, message: `is not Base64 (${example})` });
    if (bytes !== undefined && key.length !== bytes) {
      return void ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be exactly ${bytes} random bytes in Base64, not ${key.length} (${example})` });
    }
    const problem = weakKeyProblem(key);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${problem} (${example})` });
  });

/** A Standard Webhooks secret: `whsec_` + Base64 of at least 32 random bytes. */
const webhookSecret = optionalSecret.superRefine((value, ctx) => {
  if (value === undefined) return;
  const key = decodeWebhookSecret(value);
  const example = `make a good one with: echo "whsec_$(${MAKE_ONE})"`;
  if (!key) return void ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a Standard Webhooks secret "whsec_<Base64 key>" (${example})` });
  const problem = weakKeyProblem(key);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `has a key that ${problem} (${example})` });
});

/**
 * The origin of a ticket system the app writes to, from settings only (never from a webhook body): https,
 * or plain http to a loopback stand-in. Credentials go there, so nothing else is accepted.
 */
const ticketSiteUrl = (example: string) =>
  z
    .string()
    .optional()
    .superRefine((value, ctx) => {
      if (value === undefined) return;
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return void ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a URL such as ${example}` });
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackUrl(value))) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be https (plain http only for a loopback stand-in), not ${value.slice(0, 200)}` });
      }
      if (url.username || url.password || url.search || url.hash) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be the site's origin only, such as ${example} (no credentials, query or fragment)` });
      }
    })
    .transform((value) => (value === undefined ? undefined : value.replace(/\/+$/, '')));

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
    GRAPH_BASE_URL: z
      .string()
      .url(`must be a URL such as https://graph.microsoft.com`)
      .default('https://graph.microsoft.com'),
    /** `default`: DefaultAzureCredential (managed identity in Azure). `none`: no token, loopback simulators only. */
    GRAPH_AUTH: z.enum(['default', 'none']).default('default'),
    /** Client id of the user-assigned managed identity; DefaultAzureCredential reads it too. */
    AZURE_CLIENT_ID: z.string().regex(guid, 'must be a client id (GUID)').optional(),

    /** Jira admin webhooks: X-Hub-Signature HMAC secret (text, at least 32 random bytes). */
    WEBHOOK_SECRET_JIRA: textSecret,
    /**
     * Jira Automation "Send web request": a static token sent in X-Automation-Webhook-Token. Off unless
     * set; weaker than the HMAC (it covers no body bytes), see docs/signing.md.
     */
    WEBHOOK_SECRET_JIRA_AUTOMATION: textSecret,
    /** ServiceNow Business Rule: X-ServiceNow-Signature HMAC secret (text, at least 32 random bytes). */
    WEBHOOK_SECRET_SERVICENOW: textSecret,
    /** Standard Webhooks secret of generic callers: whsec_<Base64 of at least 32 random bytes>. */
    WEBHOOK_SECRET_GENERIC: webhookSecret,
    /**
     * 32 random bytes, Base64: seals an issued Temporary Access Pass until the requester collects it.
     * Without it, requests for a pass are refused, since the pass could not be handed over safely.
     */
    TAP_SEALING_KEY: base64Key(32),
    /**
     * At least 32 random bytes, Base64, from Key Vault: the intake's MAC over every stored request (the
     * worker refuses rows without a valid one) and the key request ids are derived under, so that an
     * id cannot be computed from public data.
     */
    INTAKE_MAC_KEY: base64Key(),
    /** Accept unsigned webhooks from sources without a secret. Only for a local demo; refused outside loopback. */
    LOCAL_DEMO_MODE: flag(false),

    JIRA_TARGET_FIELD: z.string().min(1).default('customfield_10050'),
    SERVICENOW_TARGET_FIELD: z.string().min(1).default('u_target_upn'),

    TENANT_DOMAINS: list,
    /** Resets need a second person's approval (DESIGN section 5): on unless turned off on purpose. */
    REQUIRE_APPROVAL: flag(true),
    PROTECTED_GROUP_IDS: list.pipe(z.array(z.string().regex(guid, 'each entry must be a group object id (GUID)'))),
    BREAK_GLASS_UPNS: list,

    /** At most this many resets of one user within RESET_COOLDOWN_MINUTES; the next is refused. */
    RESET_COOLDOWN_MAX: positiveInt(3),
    RESET_COOLDOWN_MINUTES: positiveInt(1440),
    /** Graph calls one reset makes at once. */
    GRAPH_MAX_CONCURRENCY: positiveInt(4),
    /** A Retry-After longer than this is not slept through: the request is re-queued for later. */
    GRAPH_MAX_INLINE_WAIT_SECONDS: positiveInt(10),
    /**
     * A request that has not started this long after the intake stored it is refused, not run: an old
     * approval is no approval, and a row brought back from long ago must not reset anyone.
     */
    REQUEST_MAX_AGE_HOURS: positiveInt(24),
    /** A worker holds a request this long without writing progress; then another may take it over. */
    RESET_LEASE_SECONDS: positiveInt(120).pipe(z.number().min(10, 'must be at least 10 seconds')),
    /**
     * A schedule's approval covers its runs for this many days; then runs are refused (and its ticket told)
     * until a PATCH names the approver again.
     */
    SCHEDULE_APPROVAL_DAYS: positiveInt(30).pipe(z.number().max(366, 'must be at most 366 days')),
    /**
     * Groups a schedule may take users out of after their reset (removeFromGroupAfterReset): remediation
     * groups made for that, never an ordinary group (a Conditional Access "require MFA" group, say). None: no removal.
     */
    REMEDIATION_GROUP_IDS: list.pipe(z.array(z.string().regex(guid, 'each entry must be a group object id (GUID)').transform((id) => id.toLowerCase()))),
    /** Jira projects (keys) whose issues a schedule may write notes to, after checking the issue exists. None: no schedule notes in Jira. */
    JIRA_PROJECT_KEYS: list.pipe(z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,254}$/, 'each entry must be a Jira project key such as ITSM').transform((key) => key.toUpperCase()))),
    /** ServiceNow tables whose records a schedule may write work notes to, after checking the record exists. None: no schedule notes in ServiceNow. */
    SERVICENOW_TABLES: list.pipe(z.array(z.string().regex(/^[a-z][a-z0-9_]{0,79}$/, 'each entry must be a table name such as change_request'))),
    /** Default pace of bulk remediation, in users released per minute. */
    BULK_RATE_PER_MINUTE: positiveInt(600),
    /**
     * A bulk job that would reset more users than this (groups expanded first) is accepted only with
     * `confirmUsers` equal to that number: one signed job naming "All users" is not consent to reset them.
     */
    BULK_CONFIRM_ABOVE: positiveInt(100),
    /**
     * Directory writes per second the whole app sends to Graph (every instance together). Graph's
     * identity limit is 3,000 writes per 150 s per app and tenant (20/s); 15 leaves headroom for
     * other apps' writes and for retries.
     */
    GRAPH_WRITE_BUDGET_PER_SECOND: positiveInt(15),

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
    /**
     * Members may view the console and ask to finish a partial reset (a linked request on the same ticket
     * with the methods that kept the default); nothing runs until a member of CONSOLE_APPROVER_GROUP_ID approves.
     */
    CONSOLE_OPERATOR_GROUP_ID: z.string().regex(guid, 'must be a group object id (GUID)').optional(),
    /** Members may view the console and approve a finish another person asked for (never their own, nor as the user or the original requester). */
    CONSOLE_APPROVER_GROUP_ID: z.string().regex(guid, 'must be a group object id (GUID)').optional(),
    /** Keep the signed machine route POST /api/resets/{id}/temporary-access-pass; off: passes go only to signed-in collectors. */
    MACHINE_PASS_COLLECTION: flag(false),

    /**
     * Ticket write-back (shared/tickets). ServiceNow: the instance notes are written to with the Table API,
     * as an OAuth client (client credentials) or a basic-auth integration user. Off while unset.
     */
    SERVICENOW_INSTANCE_URL: ticketSiteUrl('https://contoso.service-now.com'),
    SERVICENOW_CLIENT_ID: z.string().trim().min(1).max(256).optional(),
    SERVICENOW_CLIENT_SECRET: optionalSecret,
    SERVICENOW_USERNAME: z.string().trim().min(1).max(256).optional(),
    SERVICENOW_PASSWORD: optionalSecret,
    /**
     * Where people reach this app (https origin; plain http only for loopback): ticket notes link to the
     * request's page in the operator console, <origin>/api/console/#/requests/<id>. Infra sets it to the
     * function app's default host name; npm start to its own URL. No link while unset.
     */
    CONSOLE_BASE_URL: ticketSiteUrl('https://<app>.azurewebsites.net'),
    /** Jira Cloud site comments are written to (REST v3), as JIRA_USER_EMAIL with its API token. Off while unset. */
    JIRA_SITE_URL: ticketSiteUrl('https://contoso.atlassian.net'),
    JIRA_USER_EMAIL: z.string().trim().email('must be the e-mail address of the Atlassian account the API token belongs to').optional(),
    JIRA_API_TOKEN: optionalSecret,
    /** After a reset, watch the user's methods this long for a new registration, then post a last note. */
    FOLLOW_UP_HOURS: positiveInt(72).pipe(z.number().max(24 * 7, 'must be at most 168 hours (a week)')),
    /** How often the follow-up looks at the user's methods (each look is one paced Graph read). */
    FOLLOW_UP_INTERVAL_SECONDS: positiveInt(900),
    /** Mailbox the user and their manager are told from after a reset (Graph sendMail, Mail.Send). Off while unset. */
    NOTIFY_SENDER_UPN: z.string().trim().email('must be the UPN (e-mail address) of the mailbox mails are sent from').optional(),
    /**
     * Verifying the person before the reset (shared/verification): `none`, `verified-id` (Microsoft Entra
     * Verified ID with Face Check), `manager` (the target's current manager attests after signing in to the
     * console) or `verified-id-or-manager`. Infra sets `verified-id-or-manager`; npm start turns it on with
     * its local stand-ins. A request may ask for stricter, never looser.
     */
    VERIFICATION_REQUIRED: z.enum(['none', 'verified-id', 'manager', 'verified-id-or-manager', '']).optional().transform((value) => (value === undefined || value === '' ? 'none' : value)),
    /** Members of these groups (transitively) must present a Verified ID whatever VERIFICATION_REQUIRED says. */
    VERIFICATION_STRICT_GROUP_IDS: list.pipe(z.array(z.string().regex(guid, 'each entry must be a group object id (GUID)'))),
    /** A verification not passed within this many minutes ends the request `rejected`. */
    VERIFICATION_TTL_MINUTES: positiveInt(30).pipe(z.number().max(24 * 60, 'must be at most 1440 minutes (a day)')),
    /** Failed presentations allowed; the next one ends the request `rejected`. */
    VERIFICATION_MAX_FAILURES: positiveInt(3).pipe(z.number().max(10, 'must be at most 10')),
    /** The Verified ID Request Service: https, or a loopback stand-in (which gets no token, as GRAPH_AUTH=none). */
    VERIFIED_ID_ENDPOINT: z.string().url('must be a URL such as https://verifiedid.did.msidentity.com/v1.0').default('https://verifiedid.did.msidentity.com/v1.0'),
    /** The verifier's decentralized identifier (did:web:...): the `authority` of every presentation request. */
    VERIFIED_ID_AUTHORITY: z.string().trim().regex(/^did:[a-z0-9]+:.+$/, 'must be a DID such as did:web:verifiedid.contoso.com').optional(),
    /** Issuer DIDs whose VerifiedEmployee credentials are accepted; required whenever Verified ID is used, never empty. */
    VERIFIED_ID_ACCEPTED_ISSUERS: list.pipe(z.array(z.string().regex(/^did:[a-z0-9]+:.+$/, 'each entry must be an issuer DID such as did:web:verifiedid.contoso.com'))),
    /** Face Check's matchConfidenceThreshold: an integer 50-100; 80 is stricter than the service's 70, as Microsoft suggests for security use. */
    VERIFIED_ID_FACECHECK_THRESHOLD: positiveInt(80).pipe(z.number().min(50, 'must be from 50 to 100').max(100, 'must be from 50 to 100')),
    /** The verifier name Microsoft Authenticator shows the person (registration.clientName). */
    VERIFIED_ID_CLIENT_NAME: z.string().trim().min(1).max(100).default('IT service desk MFA reset'),
    /** An Entra Conditional Access authentication context (c1-c99) a manager's sign-in must carry (acrs) to attest. */
    CONSOLE_ATTESTATION_AUTH_CONTEXT: z.string().trim().regex(/^c([1-9]|[1-9][0-9])$/, 'must be an authentication context id from c1 to c99').optional(),
    /** Hosts a generic caller's callbackUrl may name (exact host names, https only); none: callbacks are refused. */
    CALLBACK_ALLOWED_HOSTS: list.pipe(z.array(z.string().regex(/^[a-z0-9.-]+(:\d+)?$/i, 'each entry must be a host name such as hooks.contoso.com'))),
    /** Standard Webhooks secret callbacks are signed with (whsec_...), its own: never WEBHOOK_SECRET_GENERIC, so a callback cannot be replayed as a request. */
    CALLBACK_SIGNING_SECRET: webhookSecret,
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
    if (!settings.INTAKE_MAC_KEY) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['INTAKE_MAC_KEY'],
        message: 'is not set: the intake cannot prove the requests it stores (for example: openssl rand -base64 32; in Azure it comes from Key Vault)',
      });
    }
    const loopback = isLoopbackUrl(settings.GRAPH_BASE_URL);
    if (!loopback && !graphCloudOf(settings.GRAPH_BASE_URL)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['GRAPH_BASE_URL'],
        message: `"${settings.GRAPH_BASE_URL.slice(0, 200)}" is not a Microsoft Graph endpoint: use one of ${GRAPH_CLOUDS.map((cloud) => cloud.graphOrigin).join(', ')} (the managed identity's token is sent there), or a loopback simulator such as http://127.0.0.1:4000 with GRAPH_AUTH=none`,
      });
    }
    if (loopback && settings.GRAPH_AUTH !== 'none') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['GRAPH_AUTH'],
        message: `must be "none" for the loopback GRAPH_BASE_URL ${settings.GRAPH_BASE_URL.slice(0, 200)}: a Graph token is never sent to a simulator`,
      });
    }
    if (settings.GRAPH_AUTH === 'none' && !loopback) {
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
    if (isLoopbackUrl(settings.CONSOLE_AUTHORITY_HOST) && !loopback) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['CONSOLE_AUTHORITY_HOST'],
        message: `"${settings.CONSOLE_AUTHORITY_HOST.slice(0, 200)}" is a loopback stand-in, accepted only with a loopback Graph simulator: with real Graph whoever runs it would decide who may reveal passes (use https://login.microsoftonline.com)`,
      });
    } else if (!isLoopbackUrl(settings.CONSOLE_AUTHORITY_HOST) && !ENTRA_AUTHORITY_HOSTS.includes(originOf(settings.CONSOLE_AUTHORITY_HOST))) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['CONSOLE_AUTHORITY_HOST'],
        message: `"${settings.CONSOLE_AUTHORITY_HOST.slice(0, 200)}" is not a Microsoft Entra authority: use one of ${ENTRA_AUTHORITY_HOSTS.join(', ')} (whoever it names decides who may reveal passes), or a loopback stand-in such as http://127.0.0.1:7072`,
      });
    }
    if (settings.SERVICENOW_INSTANCE_URL) {
      const oauth = settings.SERVICENOW_CLIENT_ID !== undefined || settings.SERVICENOW_CLIENT_SECRET !== undefined;
      const basic = settings.SERVICENOW_USERNAME !== undefined || settings.SERVICENOW_PASSWORD !== undefined;
      const missing = oauth
        ? (['SERVICENOW_CLIENT_ID', 'SERVICENOW_CLIENT_SECRET'] as const).filter((name) => settings[name] === undefined)
        : basic
          ? (['SERVICENOW_USERNAME', 'SERVICENOW_PASSWORD'] as const).filter((name) => settings[name] === undefined)
          : (['SERVICENOW_CLIENT_ID', 'SERVICENOW_CLIENT_SECRET'] as const);
      for (const name of missing) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [name],
          message: 'is not set: notes are written to SERVICENOW_INSTANCE_URL as an OAuth client (SERVICENOW_CLIENT_ID and SERVICENOW_CLIENT_SECRET) or an integration user (SERVICENOW_USERNAME and SERVICENOW_PASSWORD)',
        });
      }
    }
    if (settings.CALLBACK_ALLOWED_HOSTS.length > 0 && settings.CALLBACK_SIGNING_SECRET === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['CALLBACK_SIGNING_SECRET'],
        message: 'is not set: callbacks to CALLBACK_ALLOWED_HOSTS are signed with it (for example: echo "whsec_$(openssl rand -base64 32)"; in Azure it comes from Key Vault)',
      });
    }
    // One secret for two sources or two purposes: whoever holds it for one holds it for the other.
    for (const reuse of reusedSecrets(settings)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [reuse.setting],
        message: `is the same secret as ${reuse.sameAs}: ${reuse.why}; give each its own (make one with: ${MAKE_ONE})`,
      });
    }
    if (settings.JIRA_SITE_URL) {
      for (const name of ['JIRA_USER_EMAIL', 'JIRA_API_TOKEN'] as const) {
        if (settings[name] === undefined) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [name],
            message: 'is not set: comments are written to JIRA_SITE_URL as JIRA_USER_EMAIL with its API token JIRA_API_TOKEN (id.atlassian.com, Security, API tokens)',
          });
        }
      }
    }
    const verifiedId = settings.VERIFICATION_REQUIRED.includes('verified-id') || settings.VERIFICATION_STRICT_GROUP_IDS.length > 0;
    if (verifiedId) {
      if (!settings.VERIFIED_ID_AUTHORITY) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['VERIFIED_ID_AUTHORITY'], message: "is not set: presentation requests need the verifier's DID (Entra admin center, Verified ID, Organization settings: Decentralized identifier)" });
      }
      if (settings.VERIFIED_ID_ACCEPTED_ISSUERS.length === 0) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['VERIFIED_ID_ACCEPTED_ISSUERS'], message: 'is empty: name the issuer DIDs whose VerifiedEmployee credentials count (an empty list would accept any issuer)' });
      }
      if (!settings.CONSOLE_BASE_URL) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['CONSOLE_BASE_URL'], message: "is not set: the Request Service calls back to the app's public https address (infra sets it to the function app's host name)" });
      }
    }
    let endpoint: URL | undefined;
    try {
      endpoint = new URL(settings.VERIFIED_ID_ENDPOINT);
    } catch {
      endpoint = undefined;
    }
    if (endpoint && endpoint.protocol !== 'https:' && !isLoopbackUrl(settings.VERIFIED_ID_ENDPOINT)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['VERIFIED_ID_ENDPOINT'], message: 'must be https (plain http only for a loopback stand-in, which gets no token)' });
    }
    if (settings.VERIFICATION_REQUIRED.includes('manager') && !settings.CONSOLE_TENANT_ID) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['VERIFICATION_REQUIRED'], message: 'names manager attestation, which needs the console (CONSOLE_TENANT_ID and CONSOLE_CLIENT_ID): managers attest after signing in there' });
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
    throw new ConfigError(parsed.error.issues.map((issue) => describeIssue(issue, known)));
  }
  return parsed.data;
}

/** Settings whose values never appear in a message (they are, or may hold, secrets: storage URIs may carry a SAS). */
const SECRET_SETTING = /SECRET|KEY|TOKEN|PASSWORD|^AzureWebJobsStorage/i;

/**
 * One problem as the operator can act on it: the setting, what is wrong, the value given (never for a
 * secret) and an example, and none of zod's type names ("Invalid enum value", "received string").
 */
function describeIssue(issue: z.ZodIssue, given: Record<string, string | undefined>): string {
  const name = String(issue.path[0] ?? '');
  const value = given[name];
  const shown = value === undefined || SECRET_SETTING.test(name) ? undefined : `"${value.slice(0, 200)}"`;
  const withValue = (message: string) => (shown && !message.includes(shown) ? `${message}, got ${shown}` : message);
  const label = issue.path.join('.') || 'settings';
  if (issue.code === z.ZodIssueCode.invalid_enum_value) {
    const options = issue.options.filter((option) => option !== '').map((option) => `"${String(option)}"`);
    return `${label} ${withValue(`must be one of ${options.join(', ')}`)} (for example: ${name}=${String(issue.options[0])})`;
  }
  if (issue.code === z.ZodIssueCode.invalid_type) return `${label} ${withValue('must be text')}`;
  return `${label} ${withValue(issue.message)}`;
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
