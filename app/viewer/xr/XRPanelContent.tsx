'use client';
/**
 * What the floating panel shows in an XR session (@react-three/uikit; a code chunk of its own, loaded
 * only for sessions, see `XRPanel.tsx`): tissue groups on/off, the cutting plane
 * (on/off, move), the CT planes (axial, coronal; grab one to move it through the anatomy), life size
 * or table-top scale, lying or standing, put back in front, exit; and which structures are validated,
 * by whom. Works with controller rays, hand pinch/poke and gaze-and-pinch (all arrive as pointer clicks).
 */
import { Container, Text } from '@react-three/uikit';
import type { ReactNode } from 'react';
import type { Object3D } from 'three';
import type { TissueGroup } from '../../../models/anatomy-types.ts';
import type { CaseModelData } from '../caseStructures.ts';
import { GROUP_LABELS } from '../groupLabels.ts';
import { isGroupVisible, useViewer, useViewerStore } from '../viewerStore.ts';

export interface XRPanelContentProps {
  model: CaseModelData;
  /** Case label shown as the panel title. */
  title: string;
  session: XRSession;
}

/** Metres per panel pixel: the 340-pixel panel is about 37 cm wide. */
const PIXEL_SIZE = 0.0011;
const CLIP_STEP_M = 0.02;

export default function XRPanelContent({ model, title, session }: XRPanelContentProps) {
  const store = useViewerStore();
  // Only the switch's state: moving the cut does not redraw the panel.
  const clipEnabled = useViewer((s) => s.clip.enabled);
  const scale = useViewer((s) => s.xrScale);
  const pose = useViewer((s) => s.xrPose);
  const selected = useViewer((s) => s.selected);
  const selectedEntry = model.structures.find((s) => s.name === selected);
  const validation = useViewer((s) => s.validation);
  const hasCt = useViewer((s) => s.grid !== null);
  const planes = useViewer((s) => s.planes3d);
  const mark = selectedEntry ? validation[selectedEntry.label] : null;
  const validatedCount = model.structures.filter((x) => validation[x.label]).length;
  const radius = model.sphere.radius;
  const a = store.getState();

  return (
    <Container
      pixelSize={PIXEL_SIZE}
      width={340}
      flexDirection="column"
      padding={14}
      gap={10}
      backgroundColor="#0f1b2a"
      borderRadius={14}
      opacity={0.92}
    >
      <Text fontSize={18} color="#e6f0fa" fontWeight="bold">
        {title}
      </Text>
      <Text fontSize={13} color="#9fb3c8">
        {selectedEntry
          ? `${selectedEntry.displayName}${selectedEntry.volumeMl != null ? ` · ${selectedEntry.volumeMl.toFixed(0)} mL` : ''}${mark ? ` · validated by ${mark.by}` : ''}`
          : 'Point at a structure to name it. Grab to move, two hands to scale.'}
      </Text>
      {validatedCount > 0 && (
        <Text fontSize={13} color="#7ee787">
          {`${validatedCount} of ${model.structures.length} structures validated`}
        </Text>
      )}
      <Row>
        {model.groups.map((g) => (
          <GroupButton key={g.group} group={g.group} />
        ))}
      </Row>
      <Row>
        <PanelButton id="clip" active={clipEnabled} onClick={() => a.setClip({ enabled: !store.getState().clip.enabled })}>
          {clipEnabled ? 'Cut: on' : 'Cut: off'}
        </PanelButton>
        <PanelButton id="clip-back" onClick={() => nudgeClip(-CLIP_STEP_M)}>Cut -2 cm</PanelButton>
        <PanelButton id="clip-forward" onClick={() => nudgeClip(CLIP_STEP_M)}>Cut +2 cm</PanelButton>
      </Row>
      {hasCt && (
        <Row>
          <PanelButton id="plane-axial" active={planes.axial} onClick={() => a.togglePlane3d('axial')}>
            CT axial
          </PanelButton>
          <PanelButton id="plane-coronal" active={planes.coronal} onClick={() => a.togglePlane3d('coronal')}>
            CT coronal
          </PanelButton>
        </Row>
      )}
      <Row>
        <PanelButton id="scale" active={scale === 'table'} onClick={() => a.setXrScale(store.getState().xrScale === 'life' ? 'table' : 'life')}>
          {scale === 'life' ? 'Life size' : 'Table-top'}
        </PanelButton>
        <PanelButton id="pose" onClick={() => a.setXrPose(store.getState().xrPose === 'supine' ? 'upright' : 'supine')}>
          {pose === 'supine' ? 'Lying' : 'Standing'}
        </PanelButton>
        <PanelButton id="place" onClick={() => a.replaceInXr()}>In front</PanelButton>
        <PanelButton id="exit" onClick={() => void session.end()}>Exit</PanelButton>
      </Row>
    </Container>
  );

  function nudgeClip(step: number) {
    const c = store.getState().clip;
    const offset = Math.max(-radius, Math.min(radius, c.offset + step));
    store.getState().setClip({ enabled: true, offset });
  }
}

function Row({ children }: { children: ReactNode }) {
  return (
    <Container flexDirection="row" flexWrap="wrap" gap={8}>
      {children}
    </Container>
  );
}

function GroupButton({ group }: { group: TissueGroup }) {
  const store = useViewerStore();
  const visible = useViewer((s) => isGroupVisible(s, group));
  return (
    <PanelButton id={`group-${group}`} active={visible} onClick={() => store.getState().toggleGroup(group)}>
      {GROUP_LABELS[group]}
    </PanelButton>
  );
}

interface PanelButtonProps {
  /** Stable id; the button's object is named `xr-button-<id>` (tests find it by that name). */
  id: string;
  active?: boolean;
  onClick: () => void;
  children: ReactNode;
}

function PanelButton({ id, active = false, onClick, children }: PanelButtonProps) {
  return (
    <Container
      ref={(o: Object3D | null) => {
        if (o) o.name = `xr-button-${id}`;
      }}
      onClick={(e: { stopPropagation?: () => void }) => {
        e.stopPropagation?.();
        onClick();
      }}
      backgroundColor={active ? '#1f6feb' : '#2a3a4d'}
      hover={{ backgroundColor: active ? '#3b82f6' : '#3a4e66' }}
      borderRadius={10}
      paddingX={14}
      paddingY={10}
      minWidth={64}
      justifyContent="center"
      cursor="pointer"
    >
      <Text fontSize={15} color="#ffffff">
        {children}
      </Text>
    </Container>
  );
}
