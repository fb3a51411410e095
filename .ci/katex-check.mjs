// Checks that every LaTeX string in snapshots/ is accepted by KaTeX's parser.
// A snapshot whose file name contains "latex" holds one display formula per line of its body
// (after insta's front matter). Exits non-zero, naming file and line, on the first rejection.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const katex = require("katex");

const dir = process.argv[2] ?? "snapshots";
let checked = 0;
let failed = 0;
for (const name of fs.readdirSync(dir).sort()) {
  if (!name.endsWith(".snap") || !name.includes("latex")) continue;
  const text = fs.readFileSync(path.join(dir, name), "utf8");
  // insta front matter: "---\n...\n---\n" then the body
  const parts = text.split(/^---$/m);
  const body = parts.length >= 3 ? parts.slice(2).join("---") : text;
  body.split("\n").forEach((line, i) => {
    const formula = line.trim();
    if (formula === "") return;
    checked += 1;
    try {
      katex.renderToString(formula, { throwOnError: true, displayMode: true, strict: "error" });
    } catch (e) {
      failed += 1;
      console.error(`${name}: body line ${i + 1}: ${e.message}\n  ${formula}`);
    }
  });
}
console.log(`katex: ${checked} formulas checked, ${failed} rejected`);
if (checked === 0) {
  console.error("katex: no LaTeX snapshots found");
  process.exit(1);
}
process.exit(failed === 0 ? 0 : 1);
