import { AuditLog } from './audit/audit-log';
import { PassHandover } from './passes/pass-handover';
import { IntakeIndex } from './requests/intake-index';
import { RequestIntegrity, requestIntegrity } from './requests/request-integrity';
import { RequestStore } from './requests/request-store';
import { ResetQueue } from './requests/reset-queue';
import type { Services } from './services';
import { QUEUES, TABLES } from './storage/names';
import { TargetGuard } from './worker/target-guard';
import { VerificationSecrets } from './verification/verification-secrets';

/** The request table, the reset queue, the audit trail and the per-user guard, shared by intake, worker and bulk. */
export interface RequestStores {
  store: RequestStore;
  queue: ResetQueue;
  audit: AuditLog;
  targets: TargetGuard;
  /** Replay records, single-use deliveries and ticket lineage (shared/requests/intake-index.ts). */
  index: IntakeIndex;
  /** Request ids, index keys and row MACs under INTAKE_MAC_KEY. */
  integrity: RequestIntegrity;
  /** Present when TAP_SEALING_KEY is set: issued passes wait here, sealed, until collected. */
  passes: PassHandover | undefined;
  /** Verification page tokens, callback states and api-keys, derived under INTAKE_MAC_KEY. */
  secrets: VerificationSecrets;
}

const built = new WeakMap<Services, RequestStores>();

/** Built once per Services, so every trigger shares the clients and their "table exists" knowledge. */
export function requestStores(services: Services): RequestStores {
  let made = built.get(services);
  if (!made) {
    const integrity = requestIntegrity(services.settings);
    made = {
      store: new RequestStore(services.storage.table(TABLES.requests), integrity),
      queue: new ResetQueue(services.storage.queue(QUEUES.resets)),
      audit: new AuditLog(services.storage.table(TABLES.audit), integrity.auditKey()),
      targets: new TargetGuard(services.storage.table(TABLES.targets)),
      index: new IntakeIndex(services.storage.table(TABLES.intakeIndex)),
      integrity,
      secrets: new VerificationSecrets(integrity),
      passes: services.settings.TAP_SEALING_KEY
        ? new PassHandover(services.storage.table(TABLES.passes), Buffer.from(services.settings.TAP_SEALING_KEY, 'base64'))
        : undefined,
    };
    built.set(services, made);
  }
  return made;
}
