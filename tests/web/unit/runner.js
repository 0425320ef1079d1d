// Runs the web app's unit tests: each test module exports `tests`, an object of test functions named by the behaviour
// they prove. A test passes when its function returns (or its promise settles) without throwing.

/** Every test of `modules` ({file: module namespace, or the Error its import failed with}), one after another:
 * [{file, name, passed, error}]. A module that could not be loaded, or that has no tests, is a failure of its own. */
export async function runTests(modules) {
  const results = [];
  for (const [file, loaded] of Object.entries(modules)) {
    if (loaded instanceof Error) {
      results.push({ file, name: '(loading the module)', passed: false, error: String(loaded) });
      continue;
    }
    const tests = Object.entries(loaded.tests || {});
    if (!tests.length) results.push({ file, name: '(its tests)', passed: false, error: 'The module exports no `tests`.' });
    for (const [name, test] of tests) {
      try {
        // One after another: a test that changes shared state (the policy's numbers) puts it back before the next.
        await test();
        results.push({ file, name, passed: true, error: null });
      } catch (err) {
        results.push({ file, name, passed: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      }
    }
  }
  return results;
}
