'use client';
/** Administrators: the PACS connection, studies received from it and studies skipped with the reason. */
import { AppHeader } from '../../ui/AppHeader.tsx';
import { PacsStatusPanel } from '../../ui/PacsStatusPanel.tsx';
import { useSession } from '../../ui/useSession.ts';

export default function PacsAdminPage() {
  const session = useSession({ required: true });
  if (session.status !== 'signed-in') return <AppHeader />;
  return (
    <>
      <AppHeader user={session.user} />
      <main className="home">
        {session.user.isAdmin ? <PacsStatusPanel /> : <p className="error">Only administrators see the PACS connection.</p>}
      </main>
    </>
  );
}
