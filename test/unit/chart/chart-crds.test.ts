import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCrdFiles } from '../../../src/api/index.js';
import { CHART_DIR } from '../../harness/chart.js';

describe("the chart's CRDs", () => {
  it.each(renderCrdFiles())(
    '$path is byte-identical to the generated one (npm run gen:crds)',
    (file) => {
      expect(readFileSync(join(CHART_DIR, file.path), 'utf8')).toBe(file.content);
    },
  );
});
