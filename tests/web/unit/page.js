// The unit tests' page: loads the test modules named in its address (`?modules=a.test.js,b.test.js`), runs them,
// shows the failures, and leaves the results in `window.unitResults` for pytest (tests/web/test_web_unit.py).
import { runTests } from './runner.js';

const files = (new URLSearchParams(location.search).get('modules') || '').split(',').filter(Boolean);
const modules = Object.fromEntries(await Promise.all(
  files.map(async (file) => [file, await import(`./${file}`).catch((err) => (err instanceof Error ? err : new Error(String(err))))])));
const results = await runTests(modules);
const failed = results.filter((r) => !r.passed);
document.getElementById('summary').textContent = `${results.length - failed.length} passed, ${failed.length} failed`;
document.getElementById('failures').append(...failed.map((r) => {
  const item = document.createElement('li');
  item.textContent = `${r.file}: ${r.name}: ${r.error}`;
  return item;
}));
window.unitResults = results;
