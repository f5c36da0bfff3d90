'use client';
/**
 * Sign in; an account still on its one-time password must choose a new one right away
 * (`POST /api/session/password`), then continues where it was going.
 */
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api } from './api.ts';
import { FormError } from './FormError.tsx';

export function LoginForm({ next }: { next: string }) {
  const router = useRouter();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<'sign-in' | 'change-password'>('sign-in');
  const [newPassword, setNewPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const target = next.startsWith('/') && !next.startsWith('//') ? next : '/';

  /** Runs one step's request: the button is busy meanwhile, and a failure's message is shown. */
  const run = async (request: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await request();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const signIn = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const { user } = await api.signIn(username.trim(), password);
      if (user.mustChangePassword) setStep('change-password');
      else router.replace(target);
    });
  };

  const change = (e: FormEvent) => {
    e.preventDefault();
    if (newPassword !== repeat) {
      setError('the two new passwords are not the same');
      return;
    }
    void run(async () => {
      await api.changePassword(password, newPassword);
      router.replace(target);
    });
  };

  if (step === 'change-password') {
    return (
      <form className="card form" onSubmit={change} aria-label="Choose a new password">
        <h1>Choose your password</h1>
        <p className="muted">You signed in with a one-time password. Choose your own (at least 10 characters).</p>
        <label className="field">
          New password
          <input type="password" autoComplete="new-password" value={newPassword} onChange={(e) => setNewPassword(e.target.value)} required data-testid="new-password" />
        </label>
        <label className="field">
          New password again
          <input type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} required data-testid="repeat-password" />
        </label>
        <FormError error={error} />
        <button type="submit" className="primary" disabled={busy} data-testid="change-password">
          Save and continue
        </button>
      </form>
    );
  }

  return (
    <form className="card form" onSubmit={signIn} aria-label="Sign in">
      <h1>Sign in</h1>
      <label className="field">
        User name
        <input autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus data-testid="username" />
      </label>
      <label className="field">
        Password
        <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required data-testid="password" />
      </label>
      <FormError error={error} />
      <button type="submit" className="primary" disabled={busy} data-testid="sign-in">
        Sign in
      </button>
    </form>
  );
}
