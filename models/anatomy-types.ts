/**
 * Types of the anatomy catalogue (see `anatomy.ts`): what a structure name means for display.
 */
export type TissueGroup = 'bone' | 'vessel' | 'organ' | 'muscle' | 'airway' | 'other';

export const TISSUE_GROUPS: readonly TissueGroup[] = ['bone', 'vessel', 'organ', 'muscle', 'airway', 'other'];

export interface AnatomyEntry {
  /** Machine name as models emit it, e.g. `vertebrae_L2`, `kidney_left`. */
  name: string;
  /** For people: "L2 vertebra", "Left kidney". */
  displayName: string;
  group: TissueGroup;
  /** Display colour, sRGB `#rrggbb`. */
  color: string;
}
