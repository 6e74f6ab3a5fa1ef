/**
 * `npm run image:build`: builds the operator's images from the Dockerfile (or finds them in
 * the cache) and prints one line per image, `<target> <reference> <archive> <imageId>`, e.g.
 * for `ctr -n k8s.io images import <archive>`. Progress, the build's time and the images'
 * sizes go to stderr.
 */
import { ensureOperatorImages, IMAGE_TARGETS } from './operator-image.js';

function progress(message: string): void {
  process.stderr.write(`image: ${message}\n`);
}

try {
  const images = await ensureOperatorImages(progress);
  if (!images.built) progress('found in the cache (inputs unchanged)');
  for (const target of IMAGE_TARGETS) {
    const image = images[target];
    const size = `${(image.sizeBytes / 1024 / 1024).toFixed(0)} MiB`;
    progress(`${target}: ${image.reference}, ${size}`);
    process.stdout.write(`${target} ${image.reference} ${image.archive} ${image.imageId}\n`);
  }
} catch (error) {
  process.stderr.write(`image: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
