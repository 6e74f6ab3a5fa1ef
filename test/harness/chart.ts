/**
 * Renders the chart's simple templates without Helm (which is not installed here): only
 * `{{ .Release.Name }}`, `{{ .Release.Namespace }}` and `{{ .Files.Get "…" | indent N }}`
 * are understood, and any other template action is an error, so a template that grows
 * beyond them fails loudly instead of being tested half-rendered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './env/layout.js';

const CHART = join(repoRoot, 'charts', 'pgbackup-operator');

/** What a template sees of the release. */
export interface Release {
  readonly name: string;
  readonly namespace: string;
}

function indent(text: string, width: number): string {
  const pad = ' '.repeat(width);
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `${pad}${line}`))
    .join('\n');
}

/** The text of a template rendered for a release. */
export function renderChartTemplate(template: string, release: Release): string {
  const text = readFileSync(join(CHART, 'templates', template), 'utf8');
  const rendered = text
    .replaceAll('{{ .Release.Name }}', release.name)
    .replaceAll('{{ .Release.Namespace }}', release.namespace)
    .replace(
      /\{\{ \.Files\.Get "([^"]+)" \| indent (\d+) \}\}/g,
      (_match, file: string, width: string) =>
        indent(readFileSync(join(CHART, file), 'utf8').trimEnd(), Number(width)),
    );
  const leftover = /\{\{.*?\}\}/.exec(rendered);
  if (leftover !== null) {
    throw new Error(
      `${template}: the test renderer does not understand ${leftover[0]}; extend test/harness/chart.ts`,
    );
  }
  return rendered;
}

/** The documents of a rendered template. */
export function renderChartObjects(template: string, release: Release): Record<string, unknown>[] {
  return parseAllDocuments(renderChartTemplate(template, release)).map(
    (document) => document.toJS() as Record<string, unknown>,
  );
}
