import type { Metadata } from 'next';
import { ActionsView } from '../../components/ActionsView';

export const metadata: Metadata = { title: 'Audit trail' };

export default function ActionsPage() {
  return <ActionsView />;
}
