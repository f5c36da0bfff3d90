/** Human names of the tissue groups, for panels (no three.js here: the 2-D panels load without it). */
import type { TissueGroup } from '../../models/anatomy-types.ts';

export const GROUP_LABELS: Record<TissueGroup, string> = {
  bone: 'Bones',
  vessel: 'Vessels',
  organ: 'Organs',
  muscle: 'Muscles',
  airway: 'Airways',
  other: 'Other',
};
