// Settings that pages read on the server at request time (not baked in at build time).
import { connection } from 'next/server';

export interface TemporalUi {
  url: string;
  namespace: string;
}

/** Where the Temporal UI is (TEMPORAL_UI_URL) and which namespace the agents run in (TEMPORAL_NAMESPACE). */
export async function temporalUi(): Promise<TemporalUi> {
  await connection(); // read the environment per request, not once at build time
  return {
    url: process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233',
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
  };
}
