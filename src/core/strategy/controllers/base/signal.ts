/** A signal value for processedData: NaN (not warmed up) becomes null so the data stays plain JSON. */
export function num(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
