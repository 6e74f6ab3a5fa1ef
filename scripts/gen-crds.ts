/**
 * Writes crds/*.yaml from the zod schemas in src/api, and the same bytes into the Helm
 * chart's crds/ directory. The content comes from a pure function so the unit tests can
 * detect a committed file that is out of date.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCrdFiles } from '../src/api/crd/render-crd-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Helm installs the CRDs in a chart's crds/ directory before its templates. */
const CHART_DIR = 'charts/pgbackup-operator/';

for (const file of renderCrdFiles()) {
  for (const path of [file.path, `${CHART_DIR}${file.path}`]) {
    writeFileSync(`${root}${path}`, file.content);
    console.log(`wrote ${path}`);
  }
}
