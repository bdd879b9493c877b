'use strict';
// Tokenizes kd text with the TextMate grammar and the engine VS Code uses
// (vscode-textmate on vscode-oniguruma), for the grammar tests.
//   node test/tokenize.js FILE.kd   prints each token with its scopes

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const GRAMMAR = path.join(__dirname, '..', '..', 'textmate', 'kd.tmLanguage.json');

let grammarPromise;

/** The kd grammar, loaded once. */
function loadGrammar() {
  if (!grammarPromise) {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
    const onigLib = oniguruma.loadWASM(wasm).then(() => ({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }));
    const registry = new vsctm.Registry({
      onigLib,
      loadGrammar: async (scopeName) =>
        scopeName === 'source.kd' ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR) : null,
    });
    grammarPromise = registry.loadGrammar('source.kd');
  }
  return grammarPromise;
}

/**
 * The tokens of a text: [{line, text, scopes}], and the rule stack's depth
 * after the last line (1 when every region the text opened was closed).
 */
async function tokenize(text) {
  const grammar = await loadGrammar();
  const tokens = [];
  let stack = vsctm.INITIAL;
  text.split(/\r?\n/).forEach((line, index) => {
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) {
      tokens.push({ line: index + 1, text: line.slice(token.startIndex, token.endIndex), scopes: token.scopes });
    }
    stack = result.ruleStack;
  });
  return { tokens, depth: stack.depth };
}

module.exports = { tokenize, loadGrammar, GRAMMAR };

if (require.main === module) {
  tokenize(fs.readFileSync(process.argv[2], 'utf8')).then(({ tokens, depth }) => {
    for (const token of tokens) {
      if (token.text.trim()) {
        console.log(`${token.line}\t${JSON.stringify(token.text)}\t${token.scopes.slice(1).join(' ')}`);
      }
    }
    console.log(`depth at the end: ${depth}`);
  });
}
