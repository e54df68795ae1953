/**
 * Lists every skipped test file at the end of the run with the reason in its suite name (e.g.
 * "[skipped: no Docker engine: …]" from describeWithDocker, or a missing fixtures folder), so a
 * skip is always visible in CI output — never a silent pass.
 */
class SkippedReporter {
  onRunComplete(_contexts, results) {
    const lines = [];
    for (const file of results.testResults) {
      const skipped = file.testResults.filter((t) => t.status === 'pending' || t.status === 'skipped');
      if (skipped.length === 0) continue;
      // The title that carries the reason ("[skipped: …]"), else the top-level suite name.
      const reasons = new Set(
        skipped.map(
          (t) => [...t.ancestorTitles, t.title].find((x) => x.includes('[skipped')) ?? t.ancestorTitles[0] ?? t.title,
        ),
      );
      const rel = file.testFilePath.replace(`${process.cwd()}/`, '');
      lines.push(`  ${rel}: ${skipped.length} skipped — ${[...reasons].join('; ')}`);
    }
    if (lines.length) process.stdout.write(`\nSkipped tests and why:\n${lines.join('\n')}\n`);
  }
}
module.exports = SkippedReporter;
