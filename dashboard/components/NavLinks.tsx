'use client';
import Link from 'next/link';
import { usePathname } from 'next/navigation';

const LINKS = [
  {
    href: '/',
    label: 'Fleet',
    active: (p: string) => p === '/' || p.startsWith('/models') || p.startsWith('/incidents'),
  },
  { href: '/actions', label: 'Audit trail', active: (p: string) => p.startsWith('/actions') },
];

export function NavLinks() {
  const pathname = usePathname() ?? '/';
  return (
    <nav aria-label="Main">
      <ul className="nav">
        {LINKS.map((link) => (
          <li key={link.href}>
            <Link href={link.href} aria-current={link.active(pathname) ? 'page' : undefined}>
              {link.label}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}
