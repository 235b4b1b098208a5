'use client';
import { usePathname } from 'next/navigation';
import { useState } from 'react';
import { apiFetch, SIGN_IN_PATH, signInHref } from '../lib/api';
import { useCaller } from '../lib/session';

/** Who is signed in, with their role and a sign-out; or a way to sign in. */
export function SessionBar() {
  const caller = useCaller();
  const [busy, setBusy] = useState(false);
  const pathname = usePathname();
  if (caller === undefined || pathname === SIGN_IN_PATH) return null;

  async function signOut() {
    setBusy(true);
    await apiFetch('/v1/sessions/current', { method: 'DELETE' }).catch(() => {});
    window.location.assign(SIGN_IN_PATH);
  }

  if (caller?.kind === 'person') {
    return (
      <div className="session-bar" data-testid="session">
        <span>
          <b data-testid="signed-in-as">{caller.name}</b> <span className="role">{caller.role}</span>
        </span>
        <button type="button" className="secondary" onClick={signOut} disabled={busy}>
          Sign out
        </button>
      </div>
    );
  }
  return (
    <div className="session-bar" data-testid="session">
      {caller && <span className="role">read-only</span>}
      <a
        className="button secondary"
        href={SIGN_IN_PATH}
        onClick={(e) => {
          e.preventDefault();
          window.location.assign(signInHref());
        }}
      >
        Sign in
      </a>
    </div>
  );
}
