#!/usr/bin/env node
// validate.js FILE.glb...: runs the Khronos glTF Validator on each file and prints one JSON line
// per file: {"file", "errors", "warnings", "messages": [first errors]}. Exit 1 if any file has errors.
'use strict';
const fs = require('fs');
const path = require('path');
const validator = require(path.join(__dirname, 'node_modules', 'gltf-validator'));

async function main() {
  let failed = 0;
  for (const file of process.argv.slice(2)) {
    let line;
    try {
      const bytes = new Uint8Array(fs.readFileSync(file));
      const report = await validator.validateBytes(bytes, { uri: path.basename(file), maxIssues: 200 });
      const errors = report.issues.messages.filter((m) => m.severity === 0);
      line = { file, errors: report.issues.numErrors, warnings: report.issues.numWarnings,
               messages: errors.slice(0, 5).map((m) => `${m.code} ${m.pointer || ''} ${m.message}`) };
      if (report.issues.numErrors > 0) failed = 1;
    } catch (e) {
      line = { file, errors: 1, warnings: 0, messages: [String(e)] };
      failed = 1;
    }
    console.log(JSON.stringify(line));
  }
  process.exit(failed);
}
main();
