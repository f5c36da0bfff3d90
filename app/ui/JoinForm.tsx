'use client';
/** Type the short code of a share (easy on a headset keyboard) and open the shared case. */
import { useRouter } from 'next/navigation';
import { useState, type FormEvent } from 'react';
import { api } from './api.ts';
import { FormError } from './FormError.tsx';

export function JoinForm() {
  const router = useRouter();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { url } = await api.redeemCode(code.replace(/[\s-]/g, '').toUpperCase());
      // Stays busy while the shared case opens.
      router.push(url);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };
  return (
    <form className="card form" onSubmit={submit} aria-label="Open a shared case">
      <h1>Open a shared case</h1>
      <label className="field">
        Share code
        <input
          className="code-input"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          autoCapitalize="characters"
          autoComplete="off"
          spellCheck={false}
          maxLength={12}
          placeholder="ABC123"
          required
          autoFocus
          data-testid="share-code-input"
        />
      </label>
      <FormError error={error} />
      <button type="submit" className="primary" disabled={busy} data-testid="join">
        Open
      </button>
    </form>
  );
}
