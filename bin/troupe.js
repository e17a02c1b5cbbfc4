#!/usr/bin/env node
// The `troupe` command; the code lives in dist/ after `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('troupe: not built yet; run `npm run build` in the troupe folder first\n');
  process.exit(1);
}
await import(entry.href);
