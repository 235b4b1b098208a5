'use client';
// The browser's only way to the Homeostat API: the dashboard's own /api proxy (app/api/[...path]).
import { useCallback, useEffect, useRef, useState } from 'react';

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

interface ErrorBody {
  error?: { code?: string; message?: string; issues?: ApiIssue[] };
}

/** Calls the API through the proxy; a failure carries the API's own message (and its issues, if any). */
export async function apiFetch<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api${path}`, {
      ...init,
      cache: 'no-store',
      headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}) },
    });
  } catch (err) {
    throw new ApiError(0, 'network', `the dashboard could not be reached: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => null)) as (T & ErrorBody) | null;
  if (!res.ok) {
    const error = body?.error;
    throw new ApiError(
      res.status,
      error?.code ?? 'error',
      error?.message ?? `HTTP ${res.status}`,
      error?.issues ?? [],
    );
  }
  return body as T;
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
export function usePolling<T>(path: string | null, intervalMs = 2000): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>(EMPTY);
  const kick = useRef<() => Promise<void>>(async () => {});

  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running: Promise<void> | null = null;
    setState(EMPTY);

    const fetchOnce = () => {
      running ??= apiFetch<T>(path, { signal: controller.signal })
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
  }, [path, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  return { ...state, refresh };
}
