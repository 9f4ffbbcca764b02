/**
 * The image labels that carry a platform's image-info record inside the image itself, so that a
 * repository can plan from its registry without a state file.
 */
export const LABEL_BUILD_KEY = 'dev.imagewright.build-key';
/** JSON array of FromImageRecord: every image the build read. */
export const LABEL_FROM_IMAGES = 'dev.imagewright.from-images';
/** JSON InputsRecord: what the build key was computed from, so a changed key can be explained. */
export const LABEL_INPUTS = 'dev.imagewright.inputs';
