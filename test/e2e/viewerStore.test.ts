/** The viewer store's rules: group and structure visibility, isolation, opacity, measurement, reset. */
import { describe, expect, it } from 'vitest';
import { createViewerStore, isStructureVisible, measuredDistanceMm, type StructureEntry } from '../../app/viewer/viewerStore.ts';
import { fitDistance } from '../../app/viewer/presetViews.ts';
import { Vector3 } from 'three';

const STRUCTURES: StructureEntry[] = [
  { name: 'rib_left_1', displayName: 'Rib 1 left', group: 'bone', color: '#eeeeee' },
  { name: 'vertebrae_L1', displayName: 'L1', group: 'bone', color: '#eeeeee' },
  { name: 'liver', displayName: 'Liver', group: 'organ', color: '#aa5533', volumeMl: 1500 },
];

function visible(store: ReturnType<typeof createViewerStore>): string[] {
  const s = store.getState();
  return s.structures.filter((x) => isStructureVisible(s, x.name, x.group)).map((x) => x.name);
}

describe('viewer store', () => {
  it('hides and shows a tissue group, and a single structure', () => {
    const store = createViewerStore();
    store.getState().setStructures(STRUCTURES);
    store.getState().toggleGroup('bone');
    expect(visible(store)).toEqual(['liver']);
    store.getState().toggleGroup('bone');
    expect(visible(store)).toEqual(STRUCTURES.map((s) => s.name));
    store.getState().toggleStructure('vertebrae_L1');
    expect(visible(store)).toEqual(['rib_left_1', 'liver']);
    // A partly visible group is hidden as a whole first.
    store.getState().toggleGroup('bone');
    expect(visible(store)).toEqual(['liver']);
  });

  it('isolates a structure or a group, and a second isolate of the same one ends it', () => {
    const store = createViewerStore();
    store.getState().setStructures(STRUCTURES);
    store.getState().isolate('structure', 'liver');
    expect(visible(store)).toEqual(['liver']);
    store.getState().isolate('group', 'bone');
    expect(visible(store)).toEqual(['rib_left_1', 'vertebrae_L1']);
    store.getState().isolate('group', 'bone');
    expect(visible(store)).toEqual(STRUCTURES.map((s) => s.name));
  });

  it('sets opacity per structure and per group, clamped to 0..1', () => {
    const store = createViewerStore();
    store.getState().setStructures(STRUCTURES);
    store.getState().setGroupOpacity('bone', 0.3);
    store.getState().setOpacity('liver', 7);
    expect(store.getState().opacity).toEqual({ rib_left_1: 0.3, vertebrae_L1: 0.3, liver: 1 });
  });

  it('measures between two points in millimetres and starts over on a third', () => {
    const store = createViewerStore();
    store.getState().addMeasurePoint([0, 0, 0]);
    expect(store.getState().measure.points).toEqual([]); // not measuring
    store.getState().setMeasuring(true);
    store.getState().addMeasurePoint([0, 0, 0]);
    store.getState().addMeasurePoint([0.03, 0.04, 0]);
    expect(measuredDistanceMm(store.getState().measure.points)).toBeCloseTo(50, 9);
    store.getState().addMeasurePoint([1, 1, 1]);
    expect(store.getState().measure.points).toEqual([[1, 1, 1]]);
  });

  it('starts the skin translucent, everything else opaque, and reset returns to that', () => {
    const store = createViewerStore();
    store.getState().setStructures([...STRUCTURES, { name: 'skin', displayName: 'Skin', group: 'other', color: '#e0ac8e' }]);
    expect(store.getState().opacity).toEqual({ skin: 0.18 });
    store.getState().setOpacity('skin', 1);
    store.getState().setOpacity('liver', 0.5);
    store.getState().reset();
    expect(store.getState().opacity).toEqual({ skin: 0.18 });
  });

  it('reset shows everything, removes the cut and the measurement, and asks for the anterior view', () => {
    const store = createViewerStore();
    store.getState().setStructures(STRUCTURES);
    store.getState().toggleGroup('bone');
    store.getState().setClip({ enabled: true, offset: 0.05 });
    store.getState().showView('left');
    const nonce = store.getState().view.nonce;
    store.getState().reset();
    const s = store.getState();
    expect(visible(store)).toEqual(STRUCTURES.map((x) => x.name));
    expect(s.clip.enabled).toBe(false);
    expect(s.view).toEqual({ preset: 'anterior', nonce: nonce + 1 });
  });
});

describe('fitDistance', () => {
  it('fits the height in the front view and the depth-wise width in the side view', () => {
    const size = new Vector3(0.4, 0.6, 0.25);
    const tan = Math.tan((30 * Math.PI) / 360);
    // Front view, wide screen: the 0.6 m height decides; half the depth is added.
    expect(fitDistance(size, 'anterior', 30, 2, 1)).toBeCloseTo(0.3 / tan + 0.125, 9);
    // Side view on a narrow screen: the 0.25 m depth is the width across; the height still decides here.
    expect(fitDistance(size, 'left', 30, 0.3, 1)).toBeCloseTo(Math.max(0.3 / tan, 0.125 / (tan * 0.3)) + 0.2, 9);
  });
});
