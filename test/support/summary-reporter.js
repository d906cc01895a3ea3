// Ends the run with one plain line, `N passed, N failed`, that CI systems read as the verdict.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const suffix = skipped > 0 ? `, ${skipped} skipped` : '';
    process.stdout.write(
      `\n${results.numPassedTests} passed, ${results.numFailedTests} failed${suffix}\n`,
    );
  }
}

module.exports = SummaryReporter;
