/** What a caller may do: an admin manages everything, a trader trades, a viewer only reads. */
export type Role = 'admin' | 'trader' | 'viewer';

export interface Principal {
  name: string;
  role: Role;
  /**
   * The accounts this principal may see and trade; null or absent = all. Admins are never limited.
   * Enforced once, in execute() (see scope.ts), for both faces.
   */
  accounts?: readonly string[] | null;
}
