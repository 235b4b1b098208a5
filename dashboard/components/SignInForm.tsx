'use client';
import { type FormEvent, useId, useState } from 'react';
import { ApiError, apiFetch } from '../lib/api';
import { safeNext } from '../lib/session';

/** Name and password; on success the page the person came from (a path of this dashboard only). */
export function SignInForm({ next }: { next?: string }) {
  const id = useId();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await apiFetch('/v1/sessions', { method: 'POST', body: JSON.stringify({ name, password }) });
      // A full load: every part of the page asks again who is signed in.
      window.location.assign(safeNext(next));
    } catch (err) {
      setPassword('');
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <section className="panel signin" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>Sign in</h1>
      <p className="muted small">
        People are created by an administrator with <code>npm run users -- create NAME --role operator</code>.
      </p>
      <form onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            name="username"
            autoComplete="username"
            required
            maxLength={64}
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <div className="field" style={{ marginTop: '0.5rem' }}>
          <label htmlFor={`${id}-password`}>Password</label>
          <input
            id={`${id}-password`}
            name="password"
            type="password"
            autoComplete="current-password"
            required
            maxLength={1024}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        <div className="actions-row" style={{ marginTop: '0.75rem' }}>
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
        {error && (
          <p className="notice error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
