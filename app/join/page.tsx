import { AppHeader } from '../ui/AppHeader.tsx';
import { JoinForm } from '../ui/JoinForm.tsx';

export const metadata = { title: 'Open a shared case · holocase' };

export default function JoinPage() {
  return (
    <>
      <AppHeader />
      <main className="narrow">
        <JoinForm />
      </main>
    </>
  );
}
