import type { Metadata } from 'next';
import { IncidentView } from '../../../components/IncidentView';
import { temporalUi } from '../../../lib/server-config';

type Props = { params: Promise<{ id: string }> };

export const metadata: Metadata = { title: 'Incident' };

export default async function IncidentPage({ params }: Props) {
  const { id } = await params;
  return <IncidentView id={decodeURIComponent(id)} temporal={await temporalUi()} />;
}
