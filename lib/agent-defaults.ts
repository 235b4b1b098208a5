// The agent's defaults, in one place: the workflow uses them, and so does whoever starts it (the start
// jitter of lib/temporal.ts spreads first cycles over one cycle interval). Plain constants: the workflow
// bundle loads this module.

export const AGENT_DEFAULTS = { cycleInterval: '1 minute', maxCyclesPerRun: 500 } as const;
