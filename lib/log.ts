// Structured JSON logs (one object per line) for every process; LOG_LEVEL sets the threshold.
import { pino } from 'pino';

export const logger = pino({
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: process.env.HOMEOSTAT_SERVICE ?? 'homeostat' },
});
