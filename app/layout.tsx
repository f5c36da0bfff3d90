import type { ReactNode } from 'react';
import './globals.css';

export const metadata = { title: 'holocase', description: 'CT to life-size mixed-reality anatomy' };

// Rendered per request: every page carries that response's script nonce (Content-Security-Policy).
export const dynamic = 'force-dynamic';

// Quest Browser and desktop alike: device width, no zoom lock (people at arm's length may pinch-zoom).
export const viewport = { width: 'device-width', initialScale: 1, themeColor: '#10161d' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
