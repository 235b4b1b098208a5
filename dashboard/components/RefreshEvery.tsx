'use client';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useTransition } from 'react';

/**
 * Renders the server-rendered page again every `ms` (never two renders at once, not while the tab is
 * hidden), keeping the URL, the scroll position and what the person typed: the page stays live without
 * a reload. Without JavaScript the page simply stays as it was served.
 */
export function RefreshEvery({ ms }: { ms: number }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const busy = useRef(false);
  busy.current = pending;
  useEffect(() => {
    const timer = setInterval(() => {
      if (!document.hidden && !busy.current) startTransition(() => router.refresh());
    }, ms);
    return () => clearInterval(timer);
  }, [router, ms]);
  return null;
}
