import { z } from 'zod';

/**
 * The createPresentationRequest payload as learn.microsoft.com/entra/verified-id/presentation-request-api
 * specifies it. Strict on purpose: every object refuses properties the page does not list (the page
 * does not say what the service does with them; refusing catches a misspelt `matchConfidenceThreshold`
 * that would otherwise fall back to the service's default of 70).
 *
 * Messages are the trailing clause of "The request contains `<target>`, but <message>." (the documented
 * inner error style), so each one reads as a sentence a developer can act on.
 */

const DID = /^did:[a-z0-9]+:\S+$/;
const did = z.string().regex(DID, { message: 'it is not a DID (did:<method>:<identifier>)' });
const nonEmpty = z.string().min(1, { message: 'it is empty' });

/** The only callback headers the service forwards; any other "throws an invalid callback header error". */
export const CALLBACK_HEADER_NAMES = ['api-key', 'authorization'] as const;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

const callbackUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'it is not an absolute URL' });
    return;
  }
  if (url.protocol === 'https:') return;
  // The service calls back over the internet and the docs ask for HTTPS. Plain http is taken only for
  // loopback hosts, which exist only because this stand-in runs on the same machine as the app.
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    message: url.protocol === 'http:' ? 'it is not https (plain http is accepted only for loopback hosts)' : 'it is not an http(s) URL',
  });
});

const callbackHeaders = z.record(z.string().min(1, { message: 'it is empty' })).superRefine((headers, ctx) => {
  const seen = new Set<string>();
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (!(CALLBACK_HEADER_NAMES as readonly string[]).includes(lower)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message: 'it is not a supported callback header (only `api-key` and `Authorization`)' });
    } else if (seen.has(lower)) {
      // Header names are case-blind: "api-key" and "API-Key" would be sent as one header with both values.
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message: 'it names a header given twice' });
    }
    seen.add(lower);
  }
});

const faceCheck = z
  .object({
    sourcePhotoClaimName: nonEmpty,
    matchConfidenceThreshold: z
      .number()
      .int({ message: 'it is not an integer between 50 and 100' })
      .min(50, { message: 'it is not an integer between 50 and 100' })
      .max(100, { message: 'it is not an integer between 50 and 100' })
      .optional(),
  })
  .strict();

const validation = z
  .object({
    allowRevoked: z.boolean().optional(),
    validateLinkedDomain: z.boolean().optional(),
    faceCheck: faceCheck.optional(),
  })
  .strict();

const constraint = z
  .object({
    claimName: nonEmpty,
    values: z.array(z.string()).min(1, { message: 'it is empty' }).optional(),
    contains: nonEmpty.optional(),
    startsWith: nonEmpty.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    // "For each constraint in the collection, you must select one operand of values, contains or startsWith."
    const operands = (['values', 'contains', 'startsWith'] as const).filter((name) => value[name] !== undefined);
    if (operands.length !== 1) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: operands.length === 0 ? 'it has none of `values`, `contains` or `startsWith` (exactly one is needed)' : `it has ${operands.map((o) => `\`${o}\``).join(' and ')} (exactly one is allowed)`,
      });
    }
  });

const requestedCredential = z
  .object({
    type: nonEmpty,
    purpose: z.string().optional(),
    acceptedIssuers: z.array(did).optional(),
    configuration: z.object({ validation: validation.optional() }).strict().optional(),
    constraints: z.array(constraint).optional(),
  })
  .strict();

export const presentationRequestSchema = z
  .object({
    includeQRCode: z.boolean().optional(),
    includeReceipt: z.boolean().optional(),
    authority: did,
    registration: z
      .object({
        clientName: nonEmpty,
        purpose: z.string().optional(),
        logoUrl: z.string().url({ message: 'it is not a URL' }).optional(),
        termsOfServiceUrl: z.string().url({ message: 'it is not a URL' }).optional(),
      })
      .strict(),
    callback: z
      .object({
        url: callbackUrl,
        state: nonEmpty,
        headers: callbackHeaders.optional(),
      })
      .strict(),
    requestedCredentials: z.array(requestedCredential).min(1, { message: 'it is empty' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    // using-facecheck: "it isn't possible to request and receive the presentation receipt when the request includes faceCheck."
    if (body.includeReceipt === true && body.requestedCredentials.some((c) => c.configuration?.validation?.faceCheck !== undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['includeReceipt'], message: 'a receipt is not possible when a requested credential asks for faceCheck' });
    }
  });

export type PresentationRequestBody = z.infer<typeof presentationRequestSchema>;
export type RequestedCredential = PresentationRequestBody['requestedCredentials'][number];

export type RequestCheck = { ok: true; body: PresentationRequestBody } | { ok: false; target: string; message: string };

/** The request as the service judges it: the body, or the first field at fault and why. */
export function checkPresentationRequest(raw: unknown): RequestCheck {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, target: 'body', message: 'The request contains `body`, but it is not a JSON object.' };
  }
  const parsed = presentationRequestSchema.safeParse(raw);
  if (parsed.success) return { ok: true, body: parsed.data };
  const issue = parsed.error.issues[0]!;
  return describe(issue);
}

function describe(issue: z.ZodIssue): { ok: false; target: string; message: string } {
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    const target = formatPath([...issue.path, issue.keys[0]!]);
    return { ok: false, target, message: `The request contains \`${target}\`, which is not a property of this request.` };
  }
  const target = formatPath(issue.path);
  if (issue.code === z.ZodIssueCode.invalid_type) {
    if (issue.received === 'undefined') return { ok: false, target, message: `The request is missing \`${target}\`.` };
    return { ok: false, target, message: `The request contains \`${target}\`, but it is not ${article(issue.expected)}.` };
  }
  return { ok: false, target, message: `The request contains \`${target}\`, but ${issue.message}.` };
}

/** ['requestedCredentials', 0, 'type'] → requestedCredentials[0].type */
function formatPath(path: (string | number)[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part), '');
}

function article(expected: string): string {
  if (expected === 'boolean') return 'boolean'; // the documented wording: "but it is not boolean"
  if (expected === 'integer' || expected === 'object' || expected === 'array') return `an ${expected}`;
  return `a ${expected}`;
}
