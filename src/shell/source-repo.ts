/**
 * ImageBuilder's `commitUrl` (required on every platform record it reads):
 * `<source repo URL>/blob/<sha of the last commit of the Dockerfile>/<Dockerfile path>`, as its
 * GitServiceExtensions.GetDockerfileCommitUrl writes it. The repository URL is `--source-repo`, or the
 * git remote `origin` of the manifest's folder; '' where no repository is known.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

/** Runs git in `dir`; undefined when git fails or is missing. */
function git(dir: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['-C', dir, ...args], { timeout: 30_000, maxBuffer: 1024 * 1024 }, (error, stdout) => resolve(error ? undefined : stdout.trim()));
  });
}

/** `https://github.com/org/repo` from the URL forms a remote may have (`git@github.com:org/repo.git`, `https://…/repo.git`). */
export function webUrlOfRemote(remote: string): string {
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(remote);
  let url = scp ? `https://${scp[1]}/${scp[2]}` : remote.replace(/^ssh:\/\/(?:[\w.-]+@)?/, 'https://').replace(/^git:\/\//, 'https://');
  // Credentials in a remote URL never reach a record.
  url = url.replace(/^(https?:\/\/)[^/@]+@/, '$1');
  return url.replace(/\.git$/, '').replace(/\/+$/, '');
}

/** Builds commit URLs for the Dockerfiles of the repository holding `manifestDir`. */
export async function commitUrlMaker(manifestDir: string, sourceRepo: string | undefined): Promise<(dockerfile: string) => Promise<string>> {
  const remote = sourceRepo ?? (await git(manifestDir, ['remote', 'get-url', 'origin']));
  if (!remote) return () => Promise.resolve('');
  const base = webUrlOfRemote(remote);
  const top = await git(manifestDir, ['rev-parse', '--show-toplevel']);
  const shas = new Map<string, Promise<string | undefined>>();
  return async (dockerfile) => {
    // As ImageBuilder: the last commit that changed the Dockerfile; the path relative to the manifest.
    const file = path.resolve(manifestDir, dockerfile);
    let sha = shas.get(file);
    if (!sha) {
      sha = top ? git(manifestDir, ['log', '-1', '--format=%H', '--', file]) : Promise.resolve(undefined);
      shas.set(file, sha);
    }
    const commit = (await sha) || (top ? await git(manifestDir, ['rev-parse', 'HEAD']) : undefined);
    return commit ? `${base}/blob/${commit}/${dockerfile.replace(/\\/g, '/')}` : '';
  };
}
