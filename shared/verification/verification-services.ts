import type { Services } from '../services';
import { createRequestService, type RequestService } from './request-service';

const built = new WeakMap<Services, RequestService | undefined>();

/** The Request Service client over the app's settings, once per Services; none while Verified ID is not configured. */
export function requestServiceFor(services: Services): RequestService | undefined {
  if (!built.has(services)) {
    const settings = services.settings;
    built.set(services, settings.VERIFIED_ID_AUTHORITY ? createRequestService(settings) : undefined);
  }
  return built.get(services);
}
