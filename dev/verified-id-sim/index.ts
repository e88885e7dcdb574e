export { startVerifiedIdSimulator, DEFAULT_ISSUER, DEFAULT_REQUEST_LIFETIME_SECONDS } from './server';
export type { VerifiedIdSimOptions, PresentScenario, RunningVerifiedIdSim, SimPresentation, PresentationStatus, VerifiedIdLogEntry } from './types';
export type { PresentationRequestBody } from './request-schema';
export { DEFAULT_FACECHECK_THRESHOLD, DEFAULT_MATCH_SCORE, PRESENTATION_ERRORS } from './presentation-outcome';
export { verifiedEmployeeClaims } from './verified-employee';
