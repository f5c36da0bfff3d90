import { CaseScreen } from '../../ui/CaseScreen.tsx';

export const metadata = { title: 'Case · holocase' };

export default async function CasePage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <CaseScreen id={id} />;
}
