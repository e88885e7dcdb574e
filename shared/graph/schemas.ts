import { z } from 'zod';

/**
 * The parts of Graph's answers the engine relies on. Unknown fields pass through (Graph adds fields
 * over time); a missing field the engine needs fails the parse instead of being guessed.
 */

export const graphErrorSchema = z.object({
  error: z
    .object({
      code: z.string().default('unknown'),
      message: z.string().default(''),
    })
    .passthrough(),
});

export const userSchema = z
  .object({
    id: z.string().min(1),
    userPrincipalName: z.string().min(1),
    displayName: z.string().nullish(),
    userType: z.string().nullish(),
    accountEnabled: z.boolean().nullish(),
    mail: z.string().nullish(),
    otherMails: z.array(z.string()).nullish(),
    proxyAddresses: z.array(z.string()).nullish(),
  })
  .passthrough();
export type GraphUser = z.infer<typeof userSchema>;

export const authenticationMethodSchema = z
  .object({
    '@odata.type': z.string().min(1),
    id: z.string().min(1),
  })
  .passthrough();
export type GraphAuthenticationMethod = z.infer<typeof authenticationMethodSchema>;

/** Any paged collection: `value` plus an optional next page. */
export function collectionSchema<T extends z.ZodTypeAny>(item: T) {
  return z
    .object({
      value: z.array(item),
      '@odata.nextLink': z.string().url().optional(),
      '@odata.count': z.number().optional(),
    })
    .passthrough();
}

export const directoryRoleSchema = z
  .object({
    id: z.string(),
    displayName: z.string().nullish(),
    roleTemplateId: z.string().nullish(),
  })
  .passthrough();

export const directoryObjectSchema = z
  .object({
    id: z.string(),
    '@odata.type': z.string().optional(),
    userPrincipalName: z.string().nullish(),
    displayName: z.string().nullish(),
    userType: z.string().nullish(),
  })
  .passthrough();

export const checkMemberGroupsSchema = z.object({ value: z.array(z.string()) });

export const signInPreferencesSchema = z
  .object({
    userPreferredMethodForSecondaryAuthentication: z.string().nullish(),
    isSystemPreferredAuthenticationMethodEnabled: z.boolean().nullish(),
    systemPreferredAuthenticationMethod: z.string().nullish(),
  })
  .passthrough();

export const temporaryAccessPassCreatedSchema = z
  .object({
    id: z.string(),
    temporaryAccessPass: z.string().min(1),
    lifetimeInMinutes: z.number().nullish(),
    isUsableOnce: z.boolean().nullish(),
    startDateTime: z.string().nullish(),
  })
  .passthrough();

export const batchResponseSchema = z.object({
  responses: z.array(
    z.object({
      id: z.string(),
      status: z.number().int(),
      headers: z.record(z.string(), z.string()).optional(),
      body: z.unknown().optional(),
    }),
  ),
});

/** Graph's error message, for reasons shown to people; never the raw body. */
export function graphErrorText(body: unknown): string | undefined {
  const parsed = graphErrorSchema.safeParse(body);
  if (!parsed.success) return undefined;
  return `${parsed.data.error.code}: ${parsed.data.error.message}`;
}
