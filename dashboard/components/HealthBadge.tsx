import type { Health } from '../lib/types';

/** The health word is always written out: colour only repeats it. */
export function HealthBadge({ health, reason, large }: { health: Health; reason?: string; large?: boolean }) {
  return (
    <span className={large ? 'badge large' : 'badge'} data-health={health} title={reason}>
      {health}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const tone =
    status === 'recovered' || status === 'succeeded'
      ? 'good'
      : status === 'escalated' || status === 'failed'
        ? 'bad'
        : status === 'open'
          ? 'warn'
          : 'info';
  return (
    <span className="badge" data-tone={tone}>
      {status}
    </span>
  );
}

export function ErrorNotice({ error, what }: { error: { message: string } | null; what: string }) {
  if (!error) return null;
  return (
    <p className="notice error" role="alert">
      Could not load {what}: {error.message}
    </p>
  );
}
