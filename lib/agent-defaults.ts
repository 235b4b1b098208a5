// The agent's defaults, in one place: the workflow uses them, and so does whoever starts it (the start
// jitter of lib/temporal.ts spreads first cycles over one cycle interval). Plain constants: the workflow
// bundle loads this module.

export const AGENT_DEFAULTS = {
  cycleInterval: '1 minute',
  maxCyclesPerRun: 500,
  /**
   * Windows a cycle measures at most while catching up after a gap (lib/brain/windows.ts liveWindowEnd):
   * a backlog takes a few cycles, and no cycle's history grows without bound.
   */
  maxWindowsPerCycle: 10,
} as const;
