import { RegistryError } from '../errors.js';

/** The registry answered 404 for a manifest: the tag or digest does not exist (a genuine miss). */
export class ImageNotFoundError extends RegistryError {
  constructor(
    /** The normalized reference that was not found. */
    readonly reference: string,
  ) {
    super(`image not found: ${reference}`, 404);
    this.name = 'ImageNotFoundError';
  }
}
