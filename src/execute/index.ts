/** The execute module's public surface: carrying out a plan with a container engine and a registry. */
export { executePlan, runSucceeded, type BuildRunInput, type BuildRunOptions } from './executor.js';
export {
  createDockerEngine,
  detectDockerCli,
  readEnginePlatform,
  dockerCandidates,
  DockerCliEngine,
  EngineError,
  EngineUnavailableError,
  runProbe,
  type BuildFlavor,
  type BuildRequest,
  type DockerCli,
  type Engine,
  type LogSink,
  type Probe,
  type ProbeResult,
} from './engine.js';
export { acquireLock, lockFileFor, LockedError, type HeldLock, type LockOwner } from './lock.js';
export { pinDockerfile, type DockerfilePin } from './pin.js';
export { pinReads, withDigest, type UpstreamImage } from './inputs.js';
export { createProgress, onlyUnbuildableSkipped, PROGRESS_MODES, silentProgress, skipText, summaryLine, type BuildProgress, type ProgressMode } from './progress.js';
export {
  composeIndex,
  indexPlatform,
  publishSharedTagIndex,
  retag,
  type IndexPlatform,
  type IndexPublication,
  type ManifestClient,
  type SharedTagIndex,
} from './publish.js';
export { platformRecord } from './record.js';
export { runDag, type DagNode, type NodeResult, type SkipReason } from './scheduler.js';
export { ImageInfoStore } from './store.js';
export type * from './types.js';
