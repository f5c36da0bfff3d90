/**
 * How much memory this machine has, how much is free now, and how much a process uses — read from
 * Linux's `/proc` and the container's cgroup (v2 or v1) where they exist, from `os` elsewhere.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

function readNumber(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    const value = Number(text);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The container's memory limit (cgroup v2 `memory.max`, or v1), when one is set. */
function cgroupLimit(): number | undefined {
  const limit = readNumber('/sys/fs/cgroup/memory.max') ?? readNumber('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  // v1 reports "no limit" as a huge number.
  return limit !== undefined && limit < 2 ** 60 ? limit : undefined;
}

function cgroupUsage(): number | undefined {
  return readNumber('/sys/fs/cgroup/memory.current') ?? readNumber('/sys/fs/cgroup/memory/memory.usage_in_bytes');
}

/** The memory this machine (or its container, when that is smaller) has in all. */
export function machineMemoryBytes(): number {
  const limit = cgroupLimit();
  return limit === undefined ? os.totalmem() : Math.min(os.totalmem(), limit);
}

/** What one job may use unless configured (`HOLOCASE_JOB_MEMORY`): three quarters of the machine's memory. */
export function defaultJobMemory(): number {
  return Math.floor(machineMemoryBytes() * 0.75);
}

/** Memory that can be taken now without swapping: `MemAvailable`, and the container's headroom. */
export function availableMemoryBytes(): number {
  let available = os.freemem();
  try {
    const match = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (match) available = Number(match[1]) * 1024;
  } catch {
    // not Linux: os.freemem() it is
  }
  const limit = cgroupLimit();
  const used = cgroupUsage();
  if (limit !== undefined && used !== undefined) available = Math.min(available, Math.max(0, limit - used));
  return available;
}

/** Resident memory of process `pid` in bytes (`VmRSS`), or undefined when it cannot be read. */
export function processRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A size as people write it: `16G`, `16GB`, `16GiB`, `1500M`, `512MiB` or a plain number of bytes
 * (powers of 1024 either way). Undefined when it is not one.
 */
export function parseByteSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? '').toLowerCase();
  const value = Number(match[1]) * 1024 ** (unit ? 'kmgt'.indexOf(unit) + 1 : 0);
  return value > 0 ? Math.round(value) : undefined;
}
