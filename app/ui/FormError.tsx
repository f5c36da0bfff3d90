'use client';
/** What went wrong with a form's last submission, announced to screen readers; nothing when all is well. */

export interface FormErrorProps {
  error: string | null;
  /** `data-testid` of the message, for tests that wait for it. */
  testId?: string;
}

export function FormError({ error, testId }: FormErrorProps) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid={testId}>
      {error}
    </p>
  );
}
