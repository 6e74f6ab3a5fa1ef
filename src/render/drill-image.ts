/**
 * The image of restore drills, from the release's image: the Dockerfile's `drill` target is
 * published beside it with `-drill` appended to the tag (`pgbackup-operator:1.2.0` →
 * `pgbackup-operator:1.2.0-drill`).
 */

/**
 * The drill image beside `image`, or undefined for an image named by digest (a digest names
 * one image; there is no sibling to derive: give the drill's image explicitly).
 */
export function drillImageOf(image: string): string | undefined {
  if (image.includes('@')) return undefined;
  // A tag follows the last ':' after the last '/' (a registry's port comes before a '/').
  const name = image.slice(image.lastIndexOf('/') + 1);
  return name.includes(':') ? `${image}-drill` : `${image}:latest-drill`;
}
