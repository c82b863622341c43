import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckReport } from './evaluate.js';
import { finding } from './findings.js';
import { renderHtml } from './render-html.js';
import { renderText } from './render-text.js';

const report: CheckReport = {
  schema: 'sipsec.check/1', domain: 'evil<script>.test', checkedAt: '2030-01-01T00:00:00.000Z', grade: 'F',
  counts: { error: 1, warning: 0, info: 0, pass: 0 },
  findings: [finding('tls-not-offered', 'no "SIPS+D2T" <b>')],
  dns: { domain: 'evil<script>.test', complete: true, lookups: [{ name: 'evil<script>.test', type: 'NAPTR', state: 'secure', result: 'nxdomain', records: [] }], services: [], tlsTargets: [] },
  targets: [],
};

describe('renderers', () => {
  test('HTML escapes what the DNS says and loads nothing from outside', () => {
    const html = renderHtml(report);
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('no &#34;SIPS+D2T&#34; &#60;b&#62;'));
    assert.ok(html.includes('evil&#60;script&#62;.test'));
    assert.ok(!/\b(src|href)=/i.test(html), 'no external references');
    assert.match(html, /@media print/);
    assert.match(html, /<svg /);
  });
  test('text: colour only when asked', () => {
    assert.ok(renderText(report, { colour: true }).includes('\x1b[31m'));
    assert.ok(!renderText(report, { colour: false }).includes('\x1b['));
  });
});
