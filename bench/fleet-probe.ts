// Resident memory and CPU time of running processes, read from /proc (Linux): bench:fleet samples the
// worker, the API and the Temporal dev server with it while the fleet runs.
import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;
const PAGE_BYTES = 4096;

export interface ProcessSample {
  at: number;
  rssBytes: number;
  /** User plus system CPU time since the process started, in seconds. */
  cpuSeconds: number;
}

/** One sample of the process, or null once it has gone. */
export function sampleProcess(pid: number): ProcessSample | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { at: Date.now(), rssBytes: rssPages * PAGE_BYTES, cpuSeconds: (utime + stime) / CLOCK_TICKS };
  } catch {
    return null;
  }
}

/** The pid of a running process whose command line holds every one of `parts`, if any. */
export function findProcess(parts: string[]): number | null {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (parts.every((part) => cmdline.includes(part))) return Number(entry);
    } catch {
      // the process ended while we read
    }
  }
  return null;
}

export interface ProcessUsage {
  /** Highest resident set seen, in MB. */
  peakRssMb: number;
  lastRssMb: number;
  /** Mean CPU over the window, as a share of one core (1 = one core busy throughout). */
  cpuCores: number;
  /** The busiest sampling interval's CPU, as a share of one core. */
  peakCpuCores: number;
  /** CPU time over the window, in seconds: divided by the work done, the figure contention changes least. */
  cpuSeconds: number;
}

const MB = 1024 * 1024;

/** Samples a process every `everyMs` until stopped; `usage` summarises the samples from `since` on. */
export function watchProcess(pid: number, everyMs = 5000) {
  const samples: ProcessSample[] = [];
  const take = () => {
    const s = sampleProcess(pid);
    if (s) samples.push(s);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    pid,
    latest: () => samples.at(-1) ?? null,
    alive: () => sampleProcess(pid) !== null,
    stop: () => clearInterval(timer),
    usage(since = 0): ProcessUsage | null {
      const window = samples.filter((s) => s.at >= since);
      if (window.length < 2) return null;
      const first = window[0]!;
      const last = window.at(-1)!;
      let peakCpu = 0;
      for (let i = 1; i < window.length; i++) {
        const a = window[i - 1]!;
        const b = window[i]!;
        peakCpu = Math.max(peakCpu, (b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000));
      }
      return {
        peakRssMb: Math.round(Math.max(...window.map((s) => s.rssBytes)) / MB),
        lastRssMb: Math.round(last.rssBytes / MB),
        cpuCores: Number(((last.cpuSeconds - first.cpuSeconds) / ((last.at - first.at) / 1000)).toFixed(2)),
        peakCpuCores: Number(peakCpu.toFixed(2)),
        cpuSeconds: Number((last.cpuSeconds - first.cpuSeconds).toFixed(2)),
      };
    },
  };
}
