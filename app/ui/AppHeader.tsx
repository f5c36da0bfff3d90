'use client';
/** The bar at the top: product name (home), and for a signed-in user their name and "Sign out". */
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { api, type SessionUser } from './api.ts';

export function AppHeader({ user }: { user?: SessionUser | null }) {
  const router = useRouter();
  return (
    <header className="app-header">
      <Link href="/" className="brand">
        holocase
      </Link>
      <nav>
        <Link href="/join">Enter a share code</Link>
        {user?.isAdmin && <Link href="/admin/pacs">PACS</Link>}
        {user && (
          <>
            <span className="muted">{user.username}</span>
            <button
              type="button"
              onClick={async () => {
                await api.signOut().catch(() => undefined);
                router.replace('/login');
              }}
            >
              Sign out
            </button>
          </>
        )}
      </nav>
    </header>
  );
}
