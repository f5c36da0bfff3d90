'use client';
/** Home: upload a CT and see your cases. */
import { useState } from 'react';
import { AppHeader } from './ui/AppHeader.tsx';
import { CaseList } from './ui/CaseList.tsx';
import { UploadPanel } from './ui/UploadPanel.tsx';
import { useSession } from './ui/useSession.ts';

export default function HomePage() {
  const session = useSession({ required: true });
  const [uploads, setUploads] = useState(0);
  if (session.status !== 'signed-in') return <AppHeader />;
  return (
    <>
      <AppHeader user={session.user} />
      <main className="home">
        <UploadPanel onUploaded={() => setUploads((n) => n + 1)} />
        <CaseList refreshKey={uploads} />
      </main>
    </>
  );
}
