import type { Metadata } from 'next';
import { FleetView } from '../components/FleetView';
import { fleetApiPath, fleetHref, fleetQueryOf } from '../lib/fleet-query';
import { serverApiRead } from '../lib/server-api';
import type { FleetResponse } from '../lib/types';

export const metadata: Metadata = { title: 'Fleet' };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function FleetPage({ searchParams }: Props) {
  const query = fleetQueryOf(await searchParams);
  const result = await serverApiRead<FleetResponse>(fleetApiPath(query), fleetHref(query));
  return <FleetView query={query} result={result} />;
}
