'use client';
// Who is using the dashboard: the person signed in (their name, role and the session's CSRF token), the
// dashboard's own viewer key when nobody is (HOMEOSTAT_DASHBOARD_API_KEY: read-only), or nobody.
import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { GRANTS, type Role } from '../../lib/domain';
import { apiFetch, SIGN_IN_PATH, setCsrfToken } from './api';

export interface Caller {
  kind: 'person' | 'key';
  name: string;
  role: Role;
  csrfToken?: string;
}

interface SessionState {
  /** undefined while asking; null when nobody is signed in and the dashboard has no key of its own. */
  caller: Caller | null | undefined;
}

const SessionContext = createContext<SessionState>({ caller: undefined });

/** The page to come back to after signing in: a path of this dashboard only. */
export function safeNext(next: string | null | undefined): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [caller, setCaller] = useState<Caller | null | undefined>(undefined);
  useEffect(() => {
    // The sign-in page is for nobody in particular.
    if (window.location.pathname === SIGN_IN_PATH) return setCaller(null);
    apiFetch<Caller>('/v1/sessions/current').then(
      (who) => {
        setCsrfToken(who.csrfToken ?? null);
        setCaller(who);
      },
      () => setCaller(null),
    );
  }, []);
  return <SessionContext.Provider value={{ caller }}>{children}</SessionContext.Provider>;
}

export function useCaller(): Caller | null | undefined {
  return useContext(SessionContext).caller;
}

/** Whether the caller's role grants `role` (operator controls need operator). */
export function mayUse(caller: Caller | null | undefined, role: Role): boolean {
  return caller?.kind === 'person' && GRANTS[caller.role].includes(role);
}
