/**
 * The one way imagewright replaces a file: readers see the old content or the new, never a part, and
 * a failed write leaves the old file and no temporary behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Write `text` to a temporary file beside `file`, sync it, then rename it over `file` (and sync the folder). */
export async function writeFileAtomic(file: string, text: string | Uint8Array): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  await mkdir(dir, { recursive: true });
  // Same folder as the target, so the rename stays within one file system and is atomic.
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx');
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  await syncFolder(dir);
}

/** Makes the rename itself durable; some file systems refuse to sync a folder, which is not worth failing for. */
async function syncFolder(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort only.
  }
}
