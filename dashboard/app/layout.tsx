import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { NavLinks } from '../components/NavLinks';
import { SessionBar } from '../components/SessionBar';
import { SessionProvider } from '../lib/session';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Homeostat', template: '%s · Homeostat' },
  description: 'Health, incidents and actions of the models Homeostat looks after',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SessionProvider>
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          <header className="topbar">
            <Link href="/" className="brand">
              Homeostat
            </Link>
            <NavLinks />
            <SessionBar />
          </header>
          <main id="main">{children}</main>
        </SessionProvider>
      </body>
    </html>
  );
}
