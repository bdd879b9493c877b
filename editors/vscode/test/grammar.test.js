'use strict';
// Every kd program of the repository tokenizes with no invalid scope and
// closes every region it opens; the annotated samples under
// editors/textmate/tests/ (vscode-tmgrammar-test) check the scopes themselves.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { tokenize } = require('./tokenize');

const REPO = path.join(__dirname, '..', '..', '..');
const PROGRAM_DIRS = ['examples', path.join('tests', 'golden'), path.join('tests', 'hostile'), path.join('tests', 'readme')];

function programs() {
  return PROGRAM_DIRS.flatMap((dir) =>
    fs
      .readdirSync(path.join(REPO, dir))
      .filter((name) => name.endsWith('.kd'))
      .map((name) => path.join(dir, name)),
  );
}

test('the repository has kd programs to tokenize', () => {
  assert.ok(programs().length >= 10, programs().join(', '));
});

for (const program of programs()) {
  test(`${program} tokenizes cleanly`, async () => {
    const { tokens, depth } = await tokenize(fs.readFileSync(path.join(REPO, program), 'utf8'));
    const invalid = tokens.filter((t) => t.scopes.some((s) => s.startsWith('invalid')));
    assert.deepStrictEqual(invalid, [], 'tokens scoped invalid');
    assert.strictEqual(depth, 1, 'a region (string, call, bracket) is still open at the end');
    const keywords = tokens.filter((t) => t.scopes.some((s) => s.startsWith('keyword.declaration')));
    assert.ok(keywords.length > 0, 'no model or block keyword found');
  });
}

test('an unclosed call stays open (the depth check can fail)', async () => {
  const { depth } = await tokenize('model m {\n    x = Dense(3\n');
  assert.ok(depth > 1);
});

test('a stray character is scoped invalid (the invalid check can fail)', async () => {
  const { tokens } = await tokenize('x = a $ b');
  assert.ok(tokens.some((t) => t.text === '$' && t.scopes.includes('invalid.illegal.character.kd')));
});
