'use client';
// The browser's only way to the Homeostat API: the dashboard's own /api proxy (app/api/[...path]).
import { useCallback, useEffect, useRef, useState } from 'react';
import { SIGN_IN_PATH, signInHrefFor } from './format';

export interface ApiIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    /** The API's own message; `message` adds the issues to it, for places that show one line. */
    readonly summary: string,
    /** The field-by-field problems of a rejected request body (a policy, a deployment change). */
    readonly issues: ApiIssue[] = [],
  ) {
    super(
      issues.length > 0 ? `${summary} (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')})` : summary,
    );
  }
}

/** The session's CSRF token (lib/session.tsx sets it): sent with every state-changing request. */
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export { SIGN_IN_PATH };

/** The sign-in page, coming back here afterwards. */
export const signInHref = () => signInHrefFor(`${window.location.pathname}${window.location.search}`);

interface ErrorBody {
  error?: { code?: string; message?: string; issues?: ApiIssue[] };
}

/** Calls the API through the proxy; a failure carries the API's own message (and its issues, if any). */
export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    const method = (init.method ?? 'GET').toUpperCase();
    res = await fetch(`/api${path}`, {
      ...init,
      cache: 'no-store',
      headers: {
        accept: 'application/json',
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(csrfToken && !SAFE_METHODS.has(method) ? { 'x-csrf-token': csrfToken } : {}),
      },
    });
  } catch (err) {
    throw new ApiError(0, 'network', `the dashboard could not be reached: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => null)) as (T & ErrorBody) | null;
  if (!res.ok) {
    const error = body?.error;
    // The session ended (signed out elsewhere, expired, idle): sign in again, then come back.
    if (
      res.status === 401 &&
      error?.code === 'unauthenticated' &&
      window.location.pathname !== SIGN_IN_PATH
    ) {
      window.location.assign(signInHref());
    }
    throw new ApiError(
      res.status,
      error?.code ?? 'error',
      error?.message ?? `HTTP ${res.status}`,
      error?.issues ?? [],
    );
  }
  return body as T;
}

/**
 * Reads every page of a paged list (api/paging.ts): follows `nextCursor` and joins the `key` lists, for
 * views that show every item (the fleet, the model filter) rather than the first page.
 */
export async function apiFetchAll<T extends { nextCursor: string | null }>(
  path: string,
  key: keyof T & string,
  init: RequestInit = {},
): Promise<T> {
  let page = await apiFetch<T>(path, init);
  const items = [...(page[key] as unknown[])];
  while (page.nextCursor) {
    const next = `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(page.nextCursor)}`;
    page = await apiFetch<T>(next, init);
    items.push(...(page[key] as unknown[]));
  }
  return { ...page, [key]: items, nextCursor: null };
}

export interface Polled<T> {
  data: T | undefined;
  error: ApiError | null;
  /** When the last successful answer arrived (ms since epoch). */
  updatedAt: number | null;
  /** Fetches again now (after any request in flight), e.g. after the user changed something. */
  refresh: () => Promise<void>;
}

const EMPTY = { data: undefined, error: null, updatedAt: null };

/**
 * Fetches `path` now and then `intervalMs` after each answer (never two requests at once), so the page
 * stays live without a reload. Polling skips while the tab is hidden. A null path fetches nothing.
 */
export function usePolling<T>(
  path: string | null,
  intervalMs = 2000,
  /** How to read `path`: one request by default; apiFetchAll for a paged list shown whole. */
  read: (path: string, init: RequestInit) => Promise<T> = apiFetch,
): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>(EMPTY);
  const kick = useRef<() => Promise<void>>(async () => {});

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running: Promise<void> | null = null;
    setState(EMPTY);

    const fetchOnce = () => {
      running ??= read(path, { signal: controller.signal })
        .then(
          (data) => {
            if (!controller.signal.aborted) setState({ data, error: null, updatedAt: Date.now() });
          },
          (err: unknown) => {
            if (controller.signal.aborted) return;
            const error = err instanceof ApiError ? err : new ApiError(0, 'error', String(err));
            setState((s) => ({ ...s, error }));
          },
        )
        .finally(() => {
          running = null;
        });
      return running;
    };
    const schedule = () => {
      clearTimeout(timer);
      if (!controller.signal.aborted) timer = setTimeout(poll, intervalMs);
    };
    const poll = async () => {
      if (!document.hidden) await fetchOnce();
      schedule();
    };
    kick.current = async () => {
      clearTimeout(timer);
      await running; // an answer already on its way may predate the change: ask again after it
      await fetchOnce();
      schedule();
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [path, intervalMs, read]);

  const refresh = useCallback(() => kick.current(), []);
  return { ...state, refresh };
}
