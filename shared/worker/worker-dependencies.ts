import type { AuditLog } from '../audit/audit-log';
import type { GateSettings } from '../verification/gate';
import type { Settings } from '../config';
import type { GraphTransport, ResetOptions } from '../graph';
import type { Logger } from '../log';
import type { RequestIntegrity } from '../requests/request-integrity';
import type { RequestStore } from '../requests/request-store';
import type { ResetQueue } from '../requests/reset-queue';
import type { PassHandover } from '../passes/pass-handover';
import type { TicketHook } from '../tickets/open-outbox';
import type { TargetGuard } from './target-guard';
import type { RequestService } from '../verification/request-service';
import type { VerificationSecrets } from '../verification/verification-secrets';

/** Everything the worker, the sweeper and the poison handler use; built by worker-services.ts. */
export interface WorkerDependencies {
  store: RequestStore;
  queue: ResetQueue;
  audit: AuditLog;
  targets: TargetGuard;
  /** Where an issued Temporary Access Pass waits, sealed; undefined when TAP_SEALING_KEY is not set. */
  passes: PassHandover | undefined;
  /** The ticket outbox opened when a request ends (shared/tickets); left out, nothing is posted. */
  tickets?: TicketHook;
  graph: GraphTransport;
  /** Verifies the intake's MAC on every row before anything is done for it (INTAKE_MAC_KEY). */
  integrity: RequestIntegrity;
  /** The Verified ID Request Service; undefined while Verified ID is not configured. */
  requestService?: RequestService;
  /** The verification's page token, callback state and api-keys, derived under INTAKE_MAC_KEY. */
  secrets: VerificationSecrets;
  settings: Pick<
    Settings,
    | 'REQUIRE_APPROVAL'
    | 'RESET_COOLDOWN_MAX'
    | 'RESET_COOLDOWN_MINUTES'
    | 'PROTECTED_GROUP_IDS'
    | 'BREAK_GLASS_UPNS'
    | 'TENANT_DOMAINS'
    | 'GRAPH_MAX_CONCURRENCY'
    | 'GRAPH_MAX_INLINE_WAIT_SECONDS'
    | 'RESET_LEASE_SECONDS'
    | 'REQUEST_MAX_AGE_HOURS'
    | 'VERIFICATION_STRICT_GROUP_IDS'
    | keyof GateSettings
  >;
  log: Logger;
  /** Engine options beyond the settings: `$batch`, and shorter retry waits in tests. */
  engine?: Pick<ResetOptions, 'useBatch' | 'retry'>;
}

/** How long a worker holds a request (and its user) without writing progress before others may take over. */
export function leaseMs(deps: Pick<WorkerDependencies, 'settings'>): number {
  return deps.settings.RESET_LEASE_SECONDS * 1000;
}
