export { startLocalIdp, DEMO_CONSOLE_CLIENT_ID, type RunningLocalIdp, type TokenOverrides, type LocalIdpOptions } from './idp';
