import { AppHeader } from '../ui/AppHeader.tsx';
import { LoginForm } from '../ui/LoginForm.tsx';

export const metadata = { title: 'Sign in · holocase' };

export default async function LoginPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  const { next } = await searchParams;
  return (
    <>
      <AppHeader />
      <main className="narrow">
        <LoginForm next={typeof next === 'string' ? next : '/'} />
      </main>
    </>
  );
}
