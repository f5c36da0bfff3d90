/**
 * How long a pipeline stage took and how much memory it needed: wall seconds, CPU seconds of the whole
 * process (every thread: decoder and mesh workers, ONNX Runtime's threads, zlib's thread pool), and the
 * peak resident memory of the process while the stage ran.
 *
 * The peak is exact per stage on Linux: the kernel's high-water mark (`VmHWM`) is reset to the current
 * resident size when a stage starts (`/proc/self/clear_refs`, value 5) and read when it ends. That reset
 * is process-wide, so the whole run's peak is the largest stage peak. Elsewhere the process's peak so far
 * is reported.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { StageName } from './context.ts';

export interface StageTiming {
  stage: StageName;
  /** Wall-clock seconds. */
  seconds: number;
  /** CPU seconds of the process over the stage, all threads together (above `seconds` when threads ran in parallel). */
  cpuSeconds: number;
  /** Peak resident memory of the process during the stage, in MB (10⁶ bytes). */
  peakRssMb: number;
}

/** A running stage; `end()` returns its figures (callable once). */
export interface StageMeter {
  readonly stage: StageName;
  end(): StageTiming;
}

let resettable: boolean | undefined;

/** Resets the process's high-water mark to its current resident size; false where that is not possible. */
function resetPeak(): boolean {
  if (resettable === false) return false;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    resettable = true;
  } catch {
    resettable = false;
  }
  return resettable;
}

/**
 * The process's peak resident memory in bytes since start (or since the last reset): the kernel's
 * high-water mark of this process's own memory (`VmHWM`). Not `getrusage`'s `maxRSS` where `VmHWM`
 * exists: Linux carries the parent's peak into a child across fork and exec, so a job forked from a
 * large server (or a benchmark's child) would report the parent's memory as its own.
 */
export function processPeakBytes(): number {
  try {
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: getrusage
  }
  return process.resourceUsage().maxRSS * 1024;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** Starts measuring `stage` now. */
export function startStage(stage: StageName): StageMeter {
  resetPeak();
  const started = performance.now();
  const cpu = process.cpuUsage();
  return {
    stage,
    end() {
      const used = process.cpuUsage(cpu);
      return {
        stage,
        seconds: round((performance.now() - started) / 1000, 3),
        cpuSeconds: round((used.user + used.system) / 1e6, 3),
        peakRssMb: Math.round(Math.max(processPeakBytes(), process.memoryUsage.rss()) / 1e6),
      };
    },
  };
}

/** "ingest 3.2 s (CPU 5.1 s, peak 812 MB)": one stage as a line for the job log and the terminal. */
export function describeStage(timing: StageTiming): string {
  return `${timing.stage} ${timing.seconds.toFixed(1)} s (CPU ${timing.cpuSeconds.toFixed(1)} s, peak ${timing.peakRssMb} MB)`;
}
