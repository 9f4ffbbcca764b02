import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { webUrlOfRemote } from '../../src/shell/source-repo.js';

describe('commitUrl: the repository URL of a git remote', () => {
  it('is the web URL, whatever form the remote has, and never carries credentials', () => {
    for (const remote of [
      'git@github.com:dotnet/dotnet-buildtools-prereqs-docker.git',
      'https://github.com/dotnet/dotnet-buildtools-prereqs-docker.git',
      'https://github.com/dotnet/dotnet-buildtools-prereqs-docker',
      'ssh://git@github.com/dotnet/dotnet-buildtools-prereqs-docker.git',
      'https://user:s3cret@github.com/dotnet/dotnet-buildtools-prereqs-docker.git',
    ]) {
      assert.equal(webUrlOfRemote(remote), 'https://github.com/dotnet/dotnet-buildtools-prereqs-docker', remote);
    }
  });
});
