#!/usr/bin/env bash
# What `npm install lbdeploy` costs an operator: the packed package, then the install into a fresh
# project (production dependencies only), in total and per direct dependency with everything it
# brings. Run from the repository: bash bench/footprint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" >/dev/null
tgz=$(ls "$work"/lbdeploy-*.tgz)
mkdir "$work/project"
cd "$work/project"
npm init -y >/dev/null
npm install --no-audit --no-fund --omit=dev "$tgz" >"$work/install.log" 2>&1 || { tail -20 "$work/install.log"; exit 1; }
echo "node $(node -v), npm $(npm -v)"
echo "packed: $(du -k "$tgz" | cut -f1) KiB; node_modules: $(du -sk node_modules | cut -f1) KiB, $(( $(npm ls --all --omit=dev --parseable 2>/dev/null | sort -u | wc -l) - 1 )) packages"
grep -c EBADENGINE "$work/install.log" | sed 's/^/EBADENGINE warnings: /' || true
echo
echo "per direct dependency of lbdeploy (with what only it brings):"
node --input-type=module -e '
import { execSync } from "node:child_process";
const tree = JSON.parse(execSync("npm ls --all --omit=dev --json", { encoding: "utf8", maxBuffer: 1 << 26 }));
// name@version -> its folder (two versions of one name live in two folders).
const where = new Map(execSync("npm ls --all --omit=dev --parseable --long", { encoding: "utf8", maxBuffer: 1 << 26 })
  .trim().split("\n").map((l) => l.split(":")).filter((p) => p.length >= 2).map(([path, id]) => [id, path]));
// One du over a set of folders: a file hard-linked twice (the esbuild binary) counts once, as on disk.
const sizeOf = (paths) => paths.length === 0 ? 0 : Number(execSync(`du -skc ${paths.join(" ")} 2>/dev/null | tail -1`, { encoding: "utf8" }).split("\t")[0]);
const direct = tree.dependencies.lbdeploy.dependencies ?? {};
const owners = new Map(); // name@version -> the direct dependencies that bring it
const walk = (deps, root) => { for (const [n, d] of Object.entries(deps ?? {})) { const id = `${n}@${d.version}`; const s = owners.get(id) ?? new Set(); s.add(root); owners.set(id, s); walk(d.dependencies, root); } };
for (const [name, d] of Object.entries(direct)) walk({ [name]: d }, name);
const rows = Object.keys(direct).map((name) => {
  const only = [...owners].filter(([, s]) => s.size === 1 && s.has(name)).map(([id]) => where.get(id)).filter(Boolean);
  return { name, kib: sizeOf(only), packages: only.length };
}).sort((a, b) => b.kib - a.kib);
for (const r of rows) console.log(`  ${r.name.padEnd(17)} ${String(r.kib).padStart(7)} KiB  ${r.packages} package(s)`);
console.log(`  ${"(lbdeploy itself)".padEnd(17)} ${String(sizeOf(["node_modules/lbdeploy"])).padStart(7)} KiB`);
'
