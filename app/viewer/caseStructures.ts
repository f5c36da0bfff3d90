/**
 * Reads a holocase GLB (its layout is described in `mesh/glbWriter.ts`) into what the viewer draws: one entry per
 * structure with its geometry, material and transform relative to the `case` root, grouped by tissue.
 */
import { Box3, Matrix4, Mesh, Sphere, type BufferGeometry, type MeshStandardMaterial, type Object3D } from 'three';
import { TISSUE_GROUPS, type TissueGroup } from '../../models/anatomy-types.ts';

/** One structure of a case as the viewer shows it. */
export interface CaseStructure {
  /** Machine name, also the node, mesh and material name (`liver`, `vertebrae_L2`). */
  name: string;
  /** For people: "Liver". */
  displayName: string;
  group: TissueGroup;
  /** Label value in the label map. */
  label: number;
  /** sRGB `#rrggbb`. */
  color: string;
  /** Mesh volume in millilitres, when the GLB carries it. */
  volumeMl?: number;
  surfaceCm2?: number;
  geometry: BufferGeometry;
  material: MeshStandardMaterial;
  /** Transform from the structure's mesh to the `case` root (quantisation puts scale/offset here). */
  matrix: Matrix4;
  /** Triangles in the mesh. */
  triangles: number;
}

export interface CaseGroup {
  group: TissueGroup;
  structures: CaseStructure[];
}

/** A loaded case: structures grouped by tissue, and its extent in metres (case root frame). */
export interface CaseModelData {
  groups: CaseGroup[];
  structures: CaseStructure[];
  /** Bounding box of all structures in the case frame (metres, +X left, +Y superior, +Z anterior). */
  bounds: Box3;
  /** Bounding sphere of `bounds`. */
  sphere: Sphere;
  /** `extras.holocase.centerLpsMm` of the scene, when present. */
  centerLpsMm?: [number, number, number];
  triangles: number;
}

/** Raised when a file is a GLB but not one in the holocase layout. */
export class CaseLayoutError extends Error {}

interface StructureExtras {
  label?: number;
  name?: string;
  displayName?: string;
  group?: string;
  color?: string;
  volumeMl?: number;
  surfaceCm2?: number;
}

/**
 * Collects the structures under the scene's `case` node.
 *
 * 1. Find the `case` root (or, for a GLB without it, use the scene itself).
 * 2. Take every mesh below it; its node extras name the structure and its tissue group.
 * 3. Compute each mesh's transform relative to the root and the case's bounds.
 */
export function readCaseStructures(scene: Object3D, sceneExtras?: unknown): CaseModelData {
  // 1. The root.
  const root = scene.getObjectByName('case') ?? scene;
  root.updateMatrixWorld(true);
  const rootInverse = new Matrix4().copy(root.matrixWorld).invert();

  // 2. Structures.
  const structures: CaseStructure[] = [];
  root.traverse((object) => {
    if (!(object instanceof Mesh)) return;
    const extras = findExtras(object);
    const name = extras.name ?? object.name;
    const geometry = object.geometry as BufferGeometry;
    const triangles = geometry.index ? geometry.index.count / 3 : geometry.getAttribute('position').count / 3;
    structures.push({
      name,
      displayName: extras.displayName ?? name.replace(/_/g, ' '),
      group: asGroup(extras.group ?? object.parent?.userData?.group),
      label: extras.label ?? 0,
      color: extras.color ?? '#cccccc',
      volumeMl: typeof extras.volumeMl === 'number' ? extras.volumeMl : undefined,
      surfaceCm2: typeof extras.surfaceCm2 === 'number' ? extras.surfaceCm2 : undefined,
      geometry,
      material: object.material as MeshStandardMaterial,
      matrix: new Matrix4().multiplyMatrices(rootInverse, object.matrixWorld),
      triangles,
    });
  });
  if (structures.length === 0) throw new CaseLayoutError('the model file holds no structure meshes');

  // 3. Groups in catalogue order, and bounds.
  const groups: CaseGroup[] = [];
  for (const group of TISSUE_GROUPS) {
    const members = structures.filter((s) => s.group === group);
    if (members.length) groups.push({ group, structures: members });
  }
  const bounds = new Box3();
  const box = new Box3();
  for (const s of structures) {
    s.geometry.computeBoundingBox();
    box.copy(s.geometry.boundingBox!).applyMatrix4(s.matrix);
    bounds.union(box);
  }
  const holocase = (sceneExtras as { holocase?: { centerLpsMm?: [number, number, number] } } | undefined)?.holocase;
  return {
    groups,
    structures,
    bounds,
    sphere: bounds.getBoundingSphere(new Sphere()),
    centerLpsMm: holocase?.centerLpsMm,
    triangles: structures.reduce((sum, s) => sum + s.triangles, 0),
  };
}

/** GLTFLoader puts node extras on the node's `userData`; a mesh node may be a child of the structure node. */
function findExtras(object: Object3D): StructureExtras {
  for (let o: Object3D | null = object; o; o = o.parent) {
    if (o.userData && typeof o.userData.name === 'string') return o.userData as StructureExtras;
  }
  return {};
}

function asGroup(value: unknown): TissueGroup {
  return (TISSUE_GROUPS as readonly string[]).includes(value as string) ? (value as TissueGroup) : 'other';
}
