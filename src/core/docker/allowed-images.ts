import { asc, eq } from 'drizzle-orm';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { dockerAllowedImages } from '../db/schema/index.js';
import { AppError } from '../errors.js';
import { imageMatches } from './names.js';

export interface AllowedImagesView {
  /** The server's own bot image: always allowed, whatever the list holds. */
  default_image: string;
  patterns: Array<{ pattern: string; added_by: string; added_at: string }>;
}

/**
 * The admin's allow-list of images bots may run, in Postgres. A deploy naming an image is checked here
 * before anything is created; the server's own bot image needs no entry.
 */
export class AllowedImages {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    readonly defaultImage: string,
  ) {}

  async view(): Promise<AllowedImagesView> {
    const rows = await this.db.select().from(dockerAllowedImages).orderBy(asc(dockerAllowedImages.pattern));
    return { default_image: this.defaultImage, patterns: rows.map((r) => ({ pattern: r.pattern, added_by: r.addedBy, added_at: r.addedAt.toISOString() })) };
  }

  /** Replaces the list in one transaction; entries kept keep who added them and when. */
  async replace(patterns: readonly string[], by: string): Promise<AllowedImagesView> {
    const wanted = [...new Set(patterns)];
    const at = this.clock.date();
    await this.db.transaction(async (tx) => {
      const have = await tx.select().from(dockerAllowedImages).for('update');
      const gone = have.filter((r) => !wanted.includes(r.pattern)).map((r) => r.pattern);
      for (const p of gone) await tx.delete(dockerAllowedImages).where(eq(dockerAllowedImages.pattern, p));
      const added = wanted.filter((p) => !have.some((r) => r.pattern === p));
      if (added.length) await tx.insert(dockerAllowedImages).values(added.map((pattern) => ({ pattern, addedBy: by, addedAt: at }))).onConflictDoNothing();
    });
    return this.view();
  }

  async allows(image: string): Promise<boolean> {
    if (imageMatches(this.defaultImage, image)) return true;
    const rows = await this.db.select({ pattern: dockerAllowedImages.pattern }).from(dockerAllowedImages);
    return rows.some((r) => imageMatches(r.pattern, image));
  }

  /** Throws POLICY_DENIED naming `path` when `image` is off the list. */
  async check(image: string, path: string): Promise<void> {
    if (await this.allows(image)) return;
    throw new AppError('POLICY_DENIED', `The image ${image} is not on this server's allow-list of bot images.`, {
      hint: `Leave ${path} out to run the server's bot image (${this.defaultImage}), or have an admin add it with PUT /docker/allowed-images (":*" at the end allows every tag, e.g. "hummingbot/hummingbot:*").`,
      details: { issues: [{ path, message: 'not on the allow-list of bot images' }] },
    });
  }
}
