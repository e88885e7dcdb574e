export { startGraphSimulator, type GraphSimulatorOptions, type RunningGraphSimulator, type SimLogEntry } from './server';
export { demoTenant, DEMO_PROTECTED_GROUP_ID, DEMO_BREAK_GLASS_UPN, DEMO_CONSOLE_READER_GROUP_ID, DEMO_PASS_COLLECTOR_GROUP_ID, DEMO_CONSOLE_OPERATOR_GROUP_ID, DEMO_CONSOLE_APPROVER_GROUP_ID, DEMO_REREGISTRATION_GROUP_ID, DEMO_RISKY_UPN, DEMO_NO_PASS_GROUP_ID } from './demo-tenant';
export { parseTenantFile, loadTenantFile, tenantFileSchema, stableId, type TenantFile } from './tenant-file';
export { SimDirectory, PHONE_IDS, type SimUser, type SimMethod, type Removal } from './directory';
export type { FaultOptions } from './faults';
export type { ThrottleOptions } from './throttle';
