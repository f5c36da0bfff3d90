'use client';
/** "View in AR" / "View in VR", shown only when the browser says it can run that kind of session. */
import { useEffect, useState } from 'react';
import type { CaseXRStore } from './caseXRStore.ts';

export function XRButtons({ store }: { store: CaseXRStore }) {
  const [supported, setSupported] = useState({ ar: false, vr: false });
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const xr = (navigator as Navigator & { xr?: XRSystem }).xr;
    if (!xr) return;
    let current = true;
    const check = (mode: XRSessionMode) => xr.isSessionSupported(mode).catch(() => false);
    void Promise.all([check('immersive-ar'), check('immersive-vr')]).then(([ar, vr]) => current && setSupported({ ar, vr }));
    return () => {
      current = false;
    };
  }, []);
  const enter = (mode: 'ar' | 'vr') => {
    setError(null);
    (mode === 'ar' ? store.enterAR() : store.enterVR()).catch((e: unknown) =>
      setError(`The headset did not start the session: ${e instanceof Error ? e.message : String(e)}`),
    );
  };
  if (!supported.ar && !supported.vr) return null;
  return (
    <div className="xr-buttons">
      {supported.ar && (
        <button type="button" className="primary" onClick={() => enter('ar')} data-testid="enter-ar">
          View in AR
        </button>
      )}
      {supported.vr && (
        <button type="button" className="primary" onClick={() => enter('vr')} data-testid="enter-vr">
          View in VR
        </button>
      )}
      {error && <p className="error">{error}</p>}
    </div>
  );
}
