import type { ReactNode } from 'react';
import './globals.css';

export const metadata = { title: 'holocase', description: 'CT to life-size mixed-reality anatomy' };

// Quest Browser and desktop alike: device width, no zoom lock (people at arm's length may pinch-zoom).
export const viewport = { width: 'device-width', initialScale: 1, themeColor: '#10161d' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
