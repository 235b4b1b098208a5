import type { Metadata } from 'next';
import { FleetView } from '../components/FleetView';

export const metadata: Metadata = { title: 'Fleet' };

export default function FleetPage() {
  return <FleetView />;
}
