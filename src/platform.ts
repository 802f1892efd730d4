/** The platform check made before the native addon is loaded. Pure. */
import { unsupportedPlatform } from './errors.js';

/**
 * Throws `ERR_SIGKIT_UNSUPPORTED_PLATFORM` unless `platform` is Linux.
 * @throws Error ERR_SIGKIT_UNSUPPORTED_PLATFORM
 */
export function assertSupportedPlatform(platform: string = process.platform): void {
  if (platform !== 'linux') throw unsupportedPlatform(platform);
}
