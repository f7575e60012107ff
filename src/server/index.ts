export {
  type AdmissionLog,
  type AdmissionOptions,
  type AdmissionReviewResponse,
  reviewAdmission,
} from './admission.js';
export type { ServerInfo } from './data-dir.js';
export type { Gate, ImageContext, VerifyApiRequest } from './gate.js';
export type { ErrorBody } from './http-errors.js';
export { GateSlots } from './limits.js';
export { MAX_BUNDLES, parseVerifyRequest } from './request.js';
export {
  createServer,
  LOG_LEVELS,
  type LogLevel,
  type RunningServer,
  type ServerOptions,
} from './server.js';
