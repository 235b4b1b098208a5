// Display helpers shared by the pages. Times are shown in the viewer's time zone.

export function formatNumber(value: unknown, digits = 3): string {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '–';
}

export function formatSigned(value: number | null, digits = 3): string {
  if (value === null || !Number.isFinite(value)) return '–';
  return `${value > 0 ? '+' : value < 0 ? '−' : '±'}${Math.abs(value).toFixed(digits)}`;
}

export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined) return '–';
  return new Date(iso).toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '–';
  return new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function formatDuration(fromIso: string, toIso: string | null, now = Date.now()): string {
  const ms = (toIso ? Date.parse(toIso) : now) - Date.parse(fromIso);
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  const h = Math.round(m / 6) / 10;
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} d`;
}

export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  return iso ? `${formatDuration(iso, null, now)} ago` : '–';
}

/** Link to a model's agent workflow in the Temporal UI. */
export function temporalWorkflowUrl(uiUrl: string, namespace: string, modelName: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/agent:${encodeURIComponent(modelName)}`;
}

export const SIGN_IN_PATH = '/signin';

/** The sign-in page, coming back to `here` (a path with its query) afterwards. */
export const signInHrefFor = (here: string) => `${SIGN_IN_PATH}?next=${encodeURIComponent(here)}`;

export const modelHref = (name: string) => `/models/${encodeURIComponent(name)}`;
export const incidentHref = (id: string) => `/incidents/${encodeURIComponent(id)}`;
