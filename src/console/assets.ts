import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

/** One file the console serves: where it is on disk and its media type. */
interface Asset {
  file: string;
  type: string;
  /** Vendor files never change while the server runs; our own files are revalidated. */
  immutable: boolean;
}

const MEDIA = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' } as const;

/**
 * Every file the browser loads, by URL: a fixed table, never a path taken
 * from the request, so no request can reach another file (no traversal,
 * no arbitrary node_modules). preact + hooks + htm come as one ESM file
 * (`htm/preact/standalone.mjs`, about 13 kB) and mqtt.js as its browser
 * ESM bundle: no build step, no CDN, everything works offline on a LAN.
 */
export function consoleAssets(): ReadonlyMap<string, Asset> {
  const own = join(projectRoot(), 'public', 'console');
  const require = createRequire(import.meta.url);
  const htm = packageDir(require.resolve('htm'), 'htm');
  const mqtt = dirname(require.resolve('mqtt/package.json'));
  return new Map<string, Asset>([
    ['/console', { file: join(own, 'index.html'), type: MEDIA.html, immutable: false }],
    ['/console/', { file: join(own, 'index.html'), type: MEDIA.html, immutable: false }],
    ['/console/dashboard', { file: join(own, 'dashboard.html'), type: MEDIA.html, immutable: false }],
    ['/console/app.mjs', { file: join(own, 'app.mjs'), type: MEDIA.js, immutable: false }],
    ['/console/pages.mjs', { file: join(own, 'pages.mjs'), type: MEDIA.js, immutable: false }],
    ['/console/api.mjs', { file: join(own, 'api.mjs'), type: MEDIA.js, immutable: false }],
    ['/console/dashboard.mjs', { file: join(own, 'dashboard.mjs'), type: MEDIA.js, immutable: false }],
    ['/console/style.css', { file: join(own, 'style.css'), type: MEDIA.css, immutable: false }],
    ['/console/vendor/preact-htm.mjs', { file: join(htm, 'preact', 'standalone.mjs'), type: MEDIA.js, immutable: true }],
    ['/console/vendor/mqtt.mjs', { file: join(mqtt, 'dist', 'mqtt.esm.js'), type: MEDIA.js, immutable: true }],
  ]);
}

/** Reads an asset, once: the files are small and fixed. */
export class AssetCache {
  readonly #bodies = new Map<string, Buffer>();
  constructor(private readonly assets: ReadonlyMap<string, Asset>) {}

  get(url: string): { body: Buffer; type: string; immutable: boolean } | undefined {
    const asset = this.assets.get(url);
    if (!asset) return undefined;
    let body = this.#bodies.get(url);
    if (!body) {
      body = readFileSync(asset.file);
      this.#bodies.set(url, body);
    }
    return { body, type: asset.type, immutable: asset.immutable };
  }

  urls(): string[] {
    return [...this.assets.keys()];
  }
}

/** The directory holding package.json: the source tree under vitest, two levels above dist/src when built. */
function projectRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'public'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('latchkey: public/console not found above ' + import.meta.dirname);
    dir = up;
  }
  return dir;
}

/** A package's directory from any file inside it (packages whose exports hide package.json). */
function packageDir(file: string, name: string): string {
  let dir = dirname(file);
  while (basename(dir) !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`latchkey: package ${name} not found`);
    dir = up;
  }
  return dir;
}
