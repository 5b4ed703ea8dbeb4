/**
 * Docker's own rule for a container name (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`, a leading `/` aside), at most 128
 * characters here: a name from a URL path is checked against it before anything reaches the daemon, so
 * `..`, `/` or an encoded slash can never become part of a daemon API path.
 */
export const CONTAINER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const MAX_CONTAINER_NAME = 128;

/** A container image reference: [registry[:port]/]name[:tag][@sha256:digest], lowercase repository path. */
export const IMAGE_REF_RE = /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d{1,5})?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
export const MAX_IMAGE_REF = 255;

/**
 * An allow-list entry: an exact image reference, or one ending in `/*`, `:*` or `@*` that matches every
 * reference starting with what precedes the `*` (`hummingbot/hummingbot:*` is every tag of that image,
 * `acme/*` every image of acme). No other wildcard, and none inside a name: `hummingbot*` would admit
 * `hummingbotevil/x`. What an entry admits is plain to read.
 */
export const IMAGE_PATTERN_RE = /^[a-z0-9][a-z0-9._\-/:@]*(?:[/:@]\*)?$/;

/** The reference with the tag docker assumes when none is given (`redis` is `redis:latest`). */
export function withTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSlash = image.lastIndexOf('/');
  return image.slice(lastSlash + 1).includes(':') ? image : `${image}:latest`;
}

/** Whether `pattern` admits `image`; both are compared with the default tag made explicit. */
export function imageMatches(pattern: string, image: string): boolean {
  const ref = withTag(image);
  if (pattern.endsWith('*')) return ref.startsWith(pattern.slice(0, -1)) || image.startsWith(pattern.slice(0, -1));
  return withTag(pattern) === ref;
}
