import { canonicalRequestSchema, normalizeRequest, targetKey } from '../requests/canonical-request';
import { fieldError } from './answer';
import { genericApproval } from './approval-gate';
import { schemaError, type Adapter } from './adapter';
import { idempotencyKeys } from './request-id';

/**
 * The canonical request of DESIGN section 4, for any other caller. An optional top-level `timestamp`
 * (checked by the intake before this adapter runs) is not part of the request. An `Idempotency-Key`
 * header, when given, is the idempotency key; otherwise ticket system + ticket id + target are.
 */
export const canonicalAdapter: Adapter = ({ body, headers, settings }) => {
  const { timestamp: _signedTime, ...rest } = body;
  const parsed = canonicalRequestSchema.safeParse(rest);
  if (!parsed.success) throw schemaError(parsed.error.issues);
  const normalized = normalizeRequest(parsed.data);
  const ticket = `${normalized.ticket.system} ${normalized.ticket.id}`;
  const request = { ...normalized, approvedBy: genericApproval(normalized.approvedBy, normalized.requestedBy, ticket, normalized.target, settings.REQUIRE_APPROVAL) };

  const key = headers.get('idempotency-key')?.trim();
  if (key !== undefined && key !== '' && key.length > 256) throw fieldError('Idempotency-Key', 'is longer than 256 characters');
  return {
    source: 'generic',
    request,
    idempotencyKey: key
      ? idempotencyKeys.genericKey(key)
      : idempotencyKeys.genericTicket(request.ticket.system, request.ticket.id, targetKey(request.target)),
  };
};
