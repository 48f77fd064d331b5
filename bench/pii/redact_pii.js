// redact_pii.js - runs the npm package redact-pii (SyncRedactor, its built-in
// regex redactors; the Google DLP client its entry point loads is never
// called) over a text file paragraph by paragraph and prints the redaction
// time, so run.sh can compare it with `moat pii scan` on the same text.
//   node redact_pii.js FILE [OUT]
'use strict';
const fs = require('fs');
const path = require('path');
const t0 = process.hrtime.bigint();
const { SyncRedactor } = require(path.join(__dirname, 'node_modules', 'redact-pii'));
const t1 = process.hrtime.bigint();
const text = fs.readFileSync(process.argv[2], 'utf8');
const redactor = new SyncRedactor();
const paras = text.split('\n\n');
const out = [];
const t2 = process.hrtime.bigint();
for (const p of paras) out.push(redactor.redact(p));
const t3 = process.hrtime.bigint();
if (process.argv[3]) fs.writeFileSync(process.argv[3], out.join('\n\n'));
const bytes = Buffer.byteLength(text, 'utf8');
const secs = Number(t3 - t2) / 1e9;
console.log(JSON.stringify({ bytes, load_s: Number(t1 - t0) / 1e9, redact_s: secs, mb_per_s: bytes / 1e6 / secs }));
