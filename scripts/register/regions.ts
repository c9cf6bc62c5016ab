/**
 * Mosaic API base URLs by region.
 * Source: developer.transmitsecurity.com (see ../shared/MOSAIC.md, "Regions"). US is Mosaic's default.
 */
export const REGIONS = {
  us: "https://api.transmitsecurity.io",
  eu: "https://api.eu.transmitsecurity.io",
  ca: "https://api.ca.transmitsecurity.io",
  au: "https://api.au.transmitsecurity.io",
  sandbox: "https://api.sbx.transmitsecurity.io",
} as const;

export type Region = keyof typeof REGIONS;

export const DEFAULT_REGION: Region = "us";

export function isRegion(value: string): value is Region {
  return Object.hasOwn(REGIONS, value);
}
