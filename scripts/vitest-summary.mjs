// Prints the plain closing line CI reads ("N passed, N failed") from vitest's JSON report,
// and exits non-zero unless everything ran and passed.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

// Several reports (scripts/test.sh: the main run, then the Redis tests on a Redis Cluster) add up.
const positionals = parseArgs({ allowPositionals: true }).positionals;
const files = positionals.length > 0 ? positionals : ['.vitest-results.json'];
let report = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, testResults: [], success: true };
for (const file of files) {
  let part;
  try {
    part = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    console.log(`0 passed, ${process.env.ARENA_LINT === 'failed' ? 2 : 1} failed`);
    console.error(`no test report at ${file}: the test run crashed`);
    process.exit(1);
  }
  for (const k of ['numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests']) report[k] += part[k] ?? 0;
  report.testResults.push(...(part.testResults ?? []));
  if (part.success === false) report.success = false;
}
// Checks run before vitest (scripts/test.sh: the lint) count as one test each.
const lint = process.env.ARENA_LINT;
const passed = (report.numPassedTests ?? 0) + (lint === 'passed' ? 1 : 0);
// A failed test counts once; a file that failed without a failing test (it did not load, or a
// hook threw) counts as one failure more. Vitest's numFailedTestSuites would also count every
// describe block around a failed test.
const brokenFiles = (report.testResults ?? []).filter(
  (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles + (lint === 'failed' ? 1 : 0) + (process.env.ARENA_CLUSTER === 'failed' ? 1 : 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && skipped === 0 && passed > 0 && report.success !== false ? 0 : 1);
