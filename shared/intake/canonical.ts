import { canonicalRequestSchema, normalizeRequest, targetKey } from '../requests/canonical-request';
import { callbackUrlProblem } from '../tickets/callback-url';
import { refused } from '../http/answer';
import { genericApproval } from './approval-gate';
import { schemaError, type Adapter } from './adapter';
import { idempotencyKeys } from './request-id';

/**
 * The canonical request of DESIGN section 4, for any other caller, signed as Standard Webhooks. An
 * optional top-level `timestamp` (checked by the intake before this adapter runs) is not part of the
 * request. The signed `webhook-id` is the idempotency key.
 */
export const canonicalAdapter: Adapter = ({ body, settings, auth }) => {
  const { timestamp: _signedTime, ...rest } = body;
  const parsed = canonicalRequestSchema.safeParse(rest);
  if (!parsed.success) throw schemaError(parsed.error.issues);
  const normalized = normalizeRequest(parsed.data);
  // Refused before anything is stored: the app posts only to hosts the operator listed, over https.
  if (normalized.callbackUrl !== undefined) {
    const problem = callbackUrlProblem(normalized.callbackUrl, settings.CALLBACK_ALLOWED_HOSTS);
    if (problem) throw refused('callback_not_allowed', `callbackUrl ${problem}; nothing was stored`, { field: 'callbackUrl' });
  }
  const ticket = `${normalized.ticket.system} ${normalized.ticket.id}`;
  const request = { ...normalized, approvedBy: genericApproval(normalized.approvedBy, normalized.requestedBy, ticket, normalized.target, settings.REQUIRE_APPROVAL) };

  // The signed webhook-id is the idempotency key; an Idempotency-Key header is not signed and is ignored.
  const webhookId = auth.mode === 'standard-webhooks' || auth.mode === 'demo-unsigned' ? auth.webhookId : undefined;
  return {
    source: 'generic',
    request,
    deliveryId: webhookId,
    idempotencyKey: webhookId
      ? idempotencyKeys.genericDelivery(webhookId)
      : idempotencyKeys.demoTicket(request.ticket.system, request.ticket.id, targetKey(request.target), request.dryRun),
  };
};
