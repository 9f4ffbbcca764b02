/**
 * Whether the engine can execute programs of a foreign architecture: RUN steps of an arm64 image on
 * an amd64 engine need a QEMU user-mode emulator registered with the kernel's binfmt_misc. Read from
 * /proc when the engine runs on this machine (a unix socket); for a remote engine nothing here can
 * tell, and the build finds out.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** binfmt_misc entry names, as Debian's qemu-user-static and tonistiigi/binfmt register them (`qemu-<name>`). */
const QEMU_NAMES: Readonly<Record<string, string>> = {
  amd64: 'x86_64',
  '386': 'i386',
  arm64: 'aarch64',
  arm: 'arm',
  riscv64: 'riscv64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  mips64le: 'mips64el',
  mips64: 'mips64',
  loong64: 'loongarch64',
};

export type EmulationAnswer =
  | { state: 'available' }
  /** `detail`: what is missing, one phrase. */
  | { state: 'missing'; detail: string }
  /** The engine is elsewhere, or this machine has no binfmt_misc to read. */
  | { state: 'unknown' };

/** Asks about one architecture (Go's name: arm64, arm, riscv64…). */
export type EmulationProbe = (architecture: string) => Promise<EmulationAnswer>;

export interface BinfmtProbeOptions {
  /** Default `/proc/sys/fs/binfmt_misc`. */
  dir?: string;
  /** For DOCKER_HOST: only an engine on this machine shares its kernel's binfmt_misc. */
  env?: NodeJS.ProcessEnv;
}

/** How to make emulation available, for the refusal. */
export const ENABLE_EMULATION =
  'on Debian or Ubuntu: apt-get install qemu-user-static binfmt-support; elsewhere: docker run --privileged --rm tonistiigi/binfmt --install all';

/** Reads the kernel's binfmt_misc registrations; an engine on another machine answers `unknown`. */
export function binfmtProbe(options: BinfmtProbeOptions = {}): EmulationProbe {
  const dir = options.dir ?? '/proc/sys/fs/binfmt_misc';
  const host = (options.env ?? process.env).DOCKER_HOST?.trim();
  const local = !host || host.startsWith('unix://');
  return async (architecture) => {
    if (!local) return { state: 'unknown' };
    const status = await readFile(join(dir, 'status'), 'utf8').catch(() => undefined);
    if (status === undefined) return { state: 'unknown' };
    if (status.trim() !== 'enabled') return { state: 'missing', detail: 'binfmt_misc is disabled on this machine' };
    const name = `qemu-${QEMU_NAMES[architecture] ?? architecture}`;
    const entry = await readFile(join(dir, name), 'utf8').catch(() => undefined);
    if (entry === undefined) return { state: 'missing', detail: `no ${name} emulator is registered with binfmt_misc` };
    const lines = entry.split('\n').map((l) => l.trim());
    if (lines[0] !== 'enabled') return { state: 'missing', detail: `the ${name} binfmt_misc entry is disabled` };
    const flags = lines.find((l) => l.startsWith('flags:'))?.slice('flags:'.length).trim() ?? '';
    // Without F (fix binary) the kernel looks for the interpreter inside each container, where it is not.
    if (!flags.includes('F')) return { state: 'missing', detail: `${name} is registered without the F (fix binary) flag, so containers cannot use it` };
    return { state: 'available' };
  };
}
