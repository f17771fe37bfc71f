/**
 * Memory sizes as people write them: "10GB", "9.5 GiB", "4800MB", or a number of bytes.
 * Decimal units (KB, MB, GB, TB) are powers of 1000, binary ones (KiB, MiB, GiB, TiB) of 1024,
 * as on a GPU's spec sheet and in `nvidia-smi` respectively.
 */

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/** Bytes, or undefined when the text is not a size. A bare number is bytes. */
export function parseMemorySize(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (!match) return undefined;
  const unit = UNITS[(match[2] || 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  return bytes > 0 ? Math.round(bytes) : undefined;
}

export const MIB = 2 ** 20;

export function bytesToMb(bytes: number): number {
  return Math.floor(bytes / MIB);
}
