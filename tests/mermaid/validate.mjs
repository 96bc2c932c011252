// Checks Mermaid chart text with Mermaid's own parser: node validate.mjs FILE...
// Prints one line per file, `PASS <diagram type>` or `FAIL <the parser's message>`;
// exits 1 if any file fails, 2 if one cannot be read. One process for every file:
// importing mermaid takes a second, a parse a few milliseconds.
//
// Parsing needs no browser, but mermaid hands a chart's title to DOMPurify (its
// HTML sanitizer), which has no methods without a window: no-op ones stand in.
// Only the syntax is checked; nothing is rendered.
import { readFileSync } from "node:fs";
import DOMPurify from "dompurify";
import mermaid from "mermaid";

DOMPurify.sanitize ??= (text) => text;
DOMPurify.addHook ??= () => {};

let failed = 0;
for (const file of process.argv.slice(2)) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    console.error(`${file}: cannot read: ${error.message}`);
    process.exit(2);
  }
  try {
    const { diagramType } = await mermaid.parse(text);
    console.log(`${file}: PASS ${diagramType}`);
  } catch (error) {
    console.log(`${file}: FAIL ${String(error?.message ?? error).replace(/\s+/g, " ")}`);
    failed += 1;
  }
}
process.exit(failed ? 1 : 0);
