/**
 * Writes crds/*.yaml from the zod schemas in src/api. The content comes from a pure function
 * so the unit tests can detect a committed file that is out of date.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCrdFiles } from '../src/api/crd/render-crd-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));

for (const file of renderCrdFiles()) {
  writeFileSync(`${root}${file.path}`, file.content);
  console.log(`wrote ${file.path}`);
}
