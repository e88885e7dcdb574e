import { expectBody, type StepContext } from './context';
import { userPath } from './paths';
import { userSchema } from './schemas';
import type { ResolvedTarget } from './state';

export type ResolveOutcome = { ok: true; target: ResolvedTarget } | { ok: false; code: string; reason: string };

/** Looks the user up once; everything afterwards addresses the object id. */
export async function resolveTarget(
  ctx: StepContext,
  target: { userPrincipalName?: string; objectId?: string },
): Promise<ResolveOutcome> {
  const key = target.objectId ?? target.userPrincipalName;
  if (!key) return { ok: false, code: 'no-target', reason: 'The request names no user: give a userPrincipalName or an objectId.' };
  const response = await ctx.call({
    method: 'GET',
    version: 'v1.0',
    // mail, otherMails and proxyAddresses are returned only when selected: the approver check needs them.
    path: `${userPath(key)}?$select=id,userPrincipalName,displayName,userType,accountEnabled,mail,otherMails,proxyAddresses`,
  });
  if (response.status === 404 || response.status === 400) {
    return {
      ok: false,
      code: 'user-not-found',
      reason: `No user ${key} in this tenant. Check the spelling of the UPN (it can differ from the email address), or give the object id.`,
    };
  }
  const user = expectBody(response, userSchema, `Looking up ${key}`);
  if (target.objectId && target.userPrincipalName && user.userPrincipalName.toLowerCase() !== target.userPrincipalName.toLowerCase()) {
    return {
      ok: false,
      code: 'target-mismatch',
      reason: `Object id ${target.objectId} belongs to ${user.userPrincipalName}, not ${target.userPrincipalName}. Correct the ticket so both name the same user.`,
    };
  }
  return {
    ok: true,
    target: {
      objectId: user.id,
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName ?? undefined,
      userType: user.userType ?? undefined,
      aliases: aliasesOf(user),
    },
  };
}

/** mail, otherMails and the SMTP proxy addresses (`SMTP:` primary, `smtp:` aliases), without the UPN, lower-cased. */
function aliasesOf(user: { userPrincipalName: string; mail?: string | null; otherMails?: string[] | null; proxyAddresses?: string[] | null }): string[] {
  const all = [user.mail ?? undefined, ...(user.otherMails ?? []), ...(user.proxyAddresses ?? []).filter((p) => /^smtp:/i.test(p)).map((p) => p.slice(5))];
  const upn = user.userPrincipalName.toLowerCase();
  return [...new Set(all.filter((a): a is string => !!a && a.trim() !== '').map((a) => a.trim().toLowerCase()))].filter((a) => a !== upn);
}
