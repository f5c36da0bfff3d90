'use client';
/**
 * Who is signed in. Pages that need an account send the reader to `/login` (and back afterwards);
 * an account with a one-time password is sent to change it first.
 */
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { api, type SessionUser } from './api.ts';

export type SessionState = { status: 'loading' } | { status: 'signed-in'; user: SessionUser } | { status: 'signed-out' };

export function useSession({ required }: { required: boolean }): SessionState {
  const router = useRouter();
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  useEffect(() => {
    let current = true;
    api.session().then(
      ({ user }) => {
        if (!current) return;
        if (user && !user.mustChangePassword) setState({ status: 'signed-in', user });
        else {
          setState({ status: 'signed-out' });
          if (required) router.replace(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
        }
      },
      () => current && setState({ status: 'signed-out' }),
    );
    return () => {
      current = false;
    };
  }, [required, router]);
  return state;
}
