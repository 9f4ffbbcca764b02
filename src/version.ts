/** imagewright's version: package.json's, inlined into the bundle (an installed copy reads no other file). */
import packageJson from '../package.json' with { type: 'json' };

export const VERSION: string = packageJson.version;
