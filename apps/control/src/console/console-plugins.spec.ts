import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { consoleStylesheet, GOVUK_FRONTEND_DIST } from './console-plugins';

describe(consoleStylesheet.name, () => {
  const published = readFileSync(join(GOVUK_FRONTEND_DIST, 'govuk', 'govuk-frontend.min.css'), 'utf8');
  const sut = consoleStylesheet(published);

  it('leaves out the GDS Transport font, which is licensed for GOV.UK only', () => {
    expect(published).toContain('@font-face{font-family:GDS Transport');
    expect(sut).not.toMatch(/GDS Transport|\/fonts\//);
    expect(sut).toContain('font-family:arial,sans-serif');
  });

  it('points every image at the console’s assets, and drops the source map comment', () => {
    expect(sut).not.toMatch(/url\(\/assets\//);
    expect(sut).toContain('url(/console/assets/images/');
    expect(sut).not.toContain('sourceMappingURL');
  });

  it('keeps every rule but the font faces', () => {
    const rules = (css: string) => css.split('}').length;
    expect(rules(published) - rules(sut)).toBe(2);
  });
});
