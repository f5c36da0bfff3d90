import { SharedCaseScreen } from '../../ui/SharedCaseScreen.tsx';

// A share token is a secret: keep it out of Referer headers sent to anyone.
export const metadata = { title: 'Shared case · holocase', referrer: 'no-referrer' };

export default async function SharedCasePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  return <SharedCaseScreen token={token} />;
}
