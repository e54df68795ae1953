#!/usr/bin/env node
/**
 * The npm registry mirror our machines use serves only the Linux builds of some platform-specific
 * optional packages (e.g. unrs-resolver's bindings, used by Jest 30). npm then writes a lock file
 * whose packages list optional dependencies it has no entry for, and `npm ci` refuses it
 * ("Missing: … from lock file"). Run `npm run lock:prune` after `npm install` to drop those dangling
 * optional references; installs are unchanged (they were never installable here).
 */
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
let dropped = 0;
for (const [at, pkg] of Object.entries(lock.packages ?? {})) {
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
    // Resolution walks up the node_modules folders to the root: present at any level is fine.
    let found = false;
    for (let base = at; ; ) {
      if (lock.packages[`${base ? `${base}/` : ''}node_modules/${dep}`] !== undefined) {
        found = true;
        break;
      }
      if (!base) break;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut >= 0 ? base.slice(0, cut) : '';
    }
    if (!found) {
      delete pkg.optionalDependencies[dep];
      dropped++;
    }
  }
}
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock:prune: dropped ${dropped} optional dependencies with no lock entry`);
