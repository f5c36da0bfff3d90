'use client';
/**
 * Two-point distance measurement: markers at the picked points and a line between them, with the
 * distance in millimetres (the case frame is in metres). Points are in the case frame, so this is
 * drawn inside the model's group and scales with it.
 */
import { Html, Line } from '@react-three/drei';
import type { Vec3 } from '../../mesh/grid.ts';
import type { CaseModelData } from './caseStructures.ts';
import { measuredDistanceMm, useViewer } from './viewerStore.ts';

export interface MeasurementProps {
  model: CaseModelData;
}

export function Measurement({ model }: MeasurementProps) {
  const points = useViewer((s) => s.measure.points);
  if (points.length === 0) return null;
  const radius = Math.max(0.002, model.sphere.radius * 0.012);
  const distance = measuredDistanceMm(points);
  return (
    <group name="measurement">
      {points.map((p, i) => (
        <mesh key={i} position={p} renderOrder={10}>
          <sphereGeometry args={[radius, 16, 12]} />
          <meshBasicMaterial color="#ffd54f" depthTest={false} transparent />
        </mesh>
      ))}
      {points.length === 2 && (
        <>
          <Line points={points} color="#ffd54f" lineWidth={2} depthTest={false} renderOrder={10} />
          <Html position={midpoint(points[0], points[1])} center className="measure-label" zIndexRange={[20, 0]}>
            {distance!.toFixed(1)} mm
          </Html>
        </>
      )}
    </group>
  );
}

function midpoint(a: Vec3, b: Vec3): Vec3 {
  return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2, (a[2] + b[2]) / 2];
}
