/**
 * sigkit: Linux signals and process control for Node.js.
 * Re-exports only; each domain lives in its own module.
 */
export { SyscallError, isSyscallError } from './errors.js';
export type { CodedError, SyscallErrorContext } from './errors.js';
export { Signal, signals, signalNumber, signalName, formatSignalList } from './catalogue.js';
export type { StandardSignalName } from './catalogue.js';
export type { SignalLike, SignalInfo, DefaultAction, FormatSignalListOptions } from './signals.js';
export { kill, killpg, sigqueue, isAlive } from './kill.js';
export { readProcess, listProcesses, children, descendants, processTree, isZombie, findZombies, findProcesses } from './proc.js';
export type { ProcessInfo, ProcessSummary, ProcessTree, ProcessState, SignalMasks, ZombieInfo, ProcessQuery, ListOptions } from './proc.js';
export { onSignal, signalEvents, waitForSignal, signalStats, getDisposition } from './sigaction.js';
export type { SignalEvent, SignalCode, OnSignalOptions, SignalEventsOptions, WaitForSignalOptions, SignalStats, Disposition } from './sigaction.js';
export { openProcess, ProcessHandle } from './pidfd.js';
export { waitForExit, exitOf, waitpid, reapChildren, setChildSubreaper, isChildSubreaper, startReaper, Reaper } from './wait.js';
export type { ExitInfo, WaitpidOptions, ReapOptions, ReaperOptions } from './wait.js';
export type { WaitOptions } from './waiting.js';
export { terminate, terminateGroup, terminateTree } from './terminate.js';
export type { TerminateOptions, TerminateTreeOptions, TerminateStep, TerminateResult, TerminateManyResult, MemberResult, SentStep } from './terminate.js';
export { killMatching, terminateMatching } from './match.js';
export { spawnProcess } from './spawn.js';
export type { SpawnProcessOptions, SpawnedProcess } from './spawn.js';
export { onShutdown, shutdown } from './shutdown.js';
export type { OnShutdownOptions, ShutdownEvent, ShutdownHook } from './shutdown.js';
export { checkShutdown } from './check-shutdown.js';
export type { CheckShutdownOptions, ShutdownReport, ReadyCheck } from './check-shutdown.js';
export { terminateCgroup } from './cgroup.js';
export type { TerminateCgroupOptions, CgroupTerminateResult } from './cgroup.js';
export type { PreStopContext, PreStopResult } from './prestop.js';
export type { MatchResult, TerminateMatchResult } from './match.js';
export { explainSignal } from './explain.js';
export type { SignalExplanation, Verdict, SignalEvidence } from './explain.js';
export { watchSignals, SignalWatch } from './watch.js';
export type { WatchEvent, WatchedSignal, WatchedExit, WatchOptions, WatchError, WatchRefusal } from './watch.js';
export { findByPort, listSockets, terminatePort, waitForListen } from './ports.js';
export type { SocketInfo, SocketProtocol, SocketState, FindByPortOptions, TerminatePortOptions, TerminatePortResult, ExitedError } from './ports.js';
export { processUsage, treeUsage } from './usage.js';
export type { ProcessUsage, TreeUsage, UsageOptions } from './usage.js';
