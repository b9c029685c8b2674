// Parse an AsyncAPI document with the official parser; print what it found as JSON.
// Usage: node asyncapi_parse.js DOCUMENT.json (with NODE_PATH pointing at node_modules).
const fs = require("fs");
const { Parser } = require("@asyncapi/parser");

(async () => {
  const text = fs.readFileSync(process.argv[2], "utf8");
  const { document, diagnostics } = await new Parser().parse(text);
  const out = {
    parsed: Boolean(document),
    diagnostics: diagnostics.map((d) => ({
      severity: d.severity,
      code: d.code,
      message: d.message,
      path: d.path,
    })),
  };
  if (document) {
    out.version = document.version();
    out.channels = document.channels().all().map((c) => c.address());
    out.operations = document.operations().all().map((o) => o.id());
    out.messages = document.components().messages().all().map((m) => m.id());
    out.payloadTypes = document.components().messages().all().map((m) => m.payload().type());
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(2);
});
