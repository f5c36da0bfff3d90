import type { ReactNode } from 'react';

export const metadata = { title: 'holocase', description: 'CT to life-size mixed-reality anatomy' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
