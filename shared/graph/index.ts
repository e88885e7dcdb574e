/** The Graph reset engine: what the worker, the bulk dispatcher and the health check import. */
export { createGraphClient, type GraphClient, type GraphClientSettings, type GraphClientOptions } from './client';
export type { GraphTransport, GraphRequest, GraphResponse, GraphVersion } from './http';
export { GraphNetworkError } from './http';
export { METHOD_TYPES, classify, inScope, PHONE_IDS, type MethodType } from './catalogue';
export { runReset, withoutSecrets, type GateDecision, type ResetInput, type ResetOptions, type ResetResult, type ResetReport, type ResetConclusion, type MethodOutcome, type MethodOutcomeKind } from './engine';
export { GraphCallError } from './context';
export { TAP_LIFETIME } from './sessions';
export { resetStateSchema, type ResetState, type StepEvent, type Plan, type Snapshot, type ResolvedTarget } from './state';
export { planReset } from './plan';
export { listGroupUserMembers, type GroupUserMember } from './members';
export { userPath } from './paths';
export { maskPhone, maskEmail } from './mask';
export { RetryLaterError, defaultRetryPolicy, type RetryPolicy } from './retry';
export { PRIVILEGED_ROLE_TEMPLATES, ALLOWED_ROLE_TEMPLATES } from './roles';
export type { GuardSettings } from './guards';
