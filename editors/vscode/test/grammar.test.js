// Tokenizes real specs with the TextMate grammar, through the same engine VS Code uses
// (vscode-textmate on the Oniguruma regex library): every regex must compile, and the main token
// kinds must get their scopes. Run with `npm test` (node's built-in test runner).

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const test = require("node:test");
const oniguruma = require("vscode-oniguruma");
const textmate = require("vscode-textmate");

const root = path.join(__dirname, "..", "..", "..");

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () => {
      const file = path.join(__dirname, "..", "syntaxes", "etr.tmLanguage.json");
      return textmate.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
    },
  });
  return registry.loadGrammar("source.etr");
}

/** Every token of `text` as [token text, innermost scope]. */
function tokenize(grammar, text) {
  const tokens = [];
  let state = textmate.INITIAL;
  for (const line of text.split("\n")) {
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      tokens.push([line.slice(token.startIndex, token.endIndex), token.scopes[token.scopes.length - 1]]);
    }
    state = result.ruleStack;
  }
  return tokens;
}

function scopeOf(tokens, text) {
  const found = tokens.find(([tokenText]) => tokenText.trim() === text);
  assert.ok(found, `no token ${JSON.stringify(text)}`);
  return found[1];
}

test("the specs of the repository tokenize with the expected scopes", async () => {
  const grammar = await loadGrammar();
  const jcl = tokenize(grammar, fs.readFileSync(path.join(root, "contributors", "jcl.etr"), "utf8"));
  assert.match(scopeOf(jcl, "// Code tables: JCL's own codes on the left, the canonical eTR+ codes on the right."), /^comment\.line\.double-slash/);
  assert.match(scopeOf(jcl, "contributor"), /^storage\.type/);
  assert.match(scopeOf(jcl, "JCL"), /^entity\.name/);
  assert.match(scopeOf(jcl, "R0"), /^entity\.name\.function\.rule/);
  assert.match(scopeOf(jcl, "reject"), /^keyword\.other/);
  assert.match(scopeOf(jcl, "else"), /^keyword\.control/);
  assert.match(scopeOf(jcl, "is"), /^keyword\.operator\.logical/);
  assert.match(scopeOf(jcl, "null"), /^constant\.language/);
  assert.match(scopeOf(jcl, "RM0"), /^constant\.numeric\.money/);
  assert.match(scopeOf(jcl, "5000000"), /^constant\.numeric\.integer/);
  assert.match(scopeOf(jcl, "parse_money"), /^entity\.name\.function/);
  assert.match(scopeOf(jcl, "??"), /^keyword\.operator\.coalesce/);
  assert.match(scopeOf(jcl, "=>"), /^keyword\.operator\.arrow/);
  assert.match(scopeOf(jcl, "money"), /^support\.type\.primitive/);

  const record = tokenize(grammar, fs.readFileSync(path.join(root, "stdlib", "etr", "record.etr"), "utf8"));
  assert.match(scopeOf(record, "/// The canonical eTR+ record: one account of one subject in one reporting month."), /^comment\.line\.documentation/);
  assert.match(scopeOf(record, "ActionCode"), /^entity\.name\.type/);
});

test("strings keep their escapes and never swallow the next line", async () => {
  const grammar = await loadGrammar();
  const tokens = tokenize(grammar, 'let a = "tab\\t and \\u{41} // not a comment\nlet b = 1');
  assert.match(scopeOf(tokens, "\\t"), /^constant\.character\.escape/);
  assert.match(scopeOf(tokens, "\\u{41}"), /^constant\.character\.escape/);
  assert.ok(!tokens.some(([, scope]) => scope.startsWith("comment")), "`//` inside a string is not a comment");
  assert.match(scopeOf(tokens, "1"), /^constant\.numeric/);
});
