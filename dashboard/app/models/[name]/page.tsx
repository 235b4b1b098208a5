import type { Metadata } from 'next';
import { ModelView } from '../../../components/ModelView';
import { temporalUi } from '../../../lib/server-config';

type Props = { params: Promise<{ name: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  return { title: decodeURIComponent((await params).name) };
}

export default async function ModelPage({ params }: Props) {
  const { name } = await params;
  return <ModelView name={decodeURIComponent(name)} temporal={await temporalUi()} />;
}
