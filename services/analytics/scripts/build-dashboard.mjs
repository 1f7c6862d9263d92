#!/usr/bin/env node
// Builds the dashboard (dashboard/ -> dist/dashboard/): esbuild bundles the TypeScript and uPlot into
// one ES module; the page, its stylesheet and uPlot's stylesheet are copied next to it. No CDN: every
// asset the page loads is served by the analytics service itself.
import { build } from 'esbuild'
import { copyFileSync, mkdirSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'dashboard')
const out = join(root, 'dist', 'dashboard')

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
await build({
  entryPoints: [join(src, 'src', 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  legalComments: 'eof',
  logLevel: 'warning',
})
copyFileSync(join(src, 'index.html'), join(out, 'index.html'))
copyFileSync(join(src, 'style.css'), join(out, 'style.css'))
const require = createRequire(import.meta.url)
copyFileSync(join(dirname(require.resolve('uplot')), 'uPlot.min.css'), join(out, 'uPlot.min.css'))
