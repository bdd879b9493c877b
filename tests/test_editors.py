"""Editor support (editors/): the TextMate grammar generated from kd.lark, the
VS Code extension and its .vsix, the Vim files.

The tests that need the extension's npm packages (vscode-tmgrammar-test, the
node unit tests, the .vsix) are skipped until `npm ci` has run in
editors/vscode: `make test-editors` runs it, then this file (CI does both).
The Vim tests need a vim with +syntax; `make test-editors` installs one when
none is there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
VSCODE = REPO / "editors" / "vscode"
TEXTMATE = REPO / "editors" / "textmate"
GRAMMAR_FILE = TEXTMATE / "kd.tmLanguage.json"
VIM_DIR = REPO / "editors" / "vim"

sys.path.insert(0, str(REPO / "scripts"))
import gen_textmate  # noqa: E402  (scripts/ is no package)

LARK_TEXT = (REPO / "grammar" / "kd.lark").read_text(encoding="utf-8")

needs_npm = pytest.mark.skipif(
    not (VSCODE / "node_modules" / ".package-lock.json").exists(),
    reason="the extension's npm packages are not installed: run `make test-editors`",
)


def run(args, cwd, **kwargs):
    """Run a command; its output goes into the assertion message when it fails."""
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, **kwargs)


# ------------------------------------------------------ the TextMate grammar


def test_the_committed_grammar_is_generated_from_kd_lark():
    expected = gen_textmate.render(gen_textmate.build_grammar(LARK_TEXT))
    assert GRAMMAR_FILE.read_text(encoding="utf-8") == expected, "run: python scripts/gen_textmate.py"


def test_the_check_mode_fails_on_a_stale_grammar(tmp_path):
    stale = tmp_path / "kd.tmLanguage.json"
    stale.write_text(GRAMMAR_FILE.read_text(encoding="utf-8").replace("keyword.control.loop.kd", "x"))
    assert gen_textmate.main(["--check", "--output", str(stale)]) == 1
    assert gen_textmate.main(["--check", "--output", str(GRAMMAR_FILE)]) == 0


def patterns_of(grammar: dict, entry: str) -> list:
    return grammar["repository"][entry]["patterns"]


def scope_of(grammar: dict, literal: str):
    """The scope the keyword or operator patterns give to a literal standing alone (first match wins)."""
    for entry in ("keywords", "operators"):
        for pattern in patterns_of(grammar, entry):
            if re.fullmatch(pattern["match"], literal):
                return pattern["name"]
    return None


def lark_literals(text: str) -> list:
    facts = gen_textmate.LarkFacts(text)
    return sorted(facts.literals().values())


def test_every_keyword_and_operator_of_kd_lark_has_a_deliberate_scope():
    grammar = gen_textmate.build_grammar(LARK_TEXT)
    literals = lark_literals(LARK_TEXT)
    assert {"model", "None", "->", "**", "//", "{", ";"} <= set(literals)
    fallbacks = {gen_textmate.UNKNOWN_KEYWORD_SCOPE, gen_textmate.UNKNOWN_OPERATOR_SCOPE, None}
    assert {lit: scope_of(grammar, lit) for lit in literals if scope_of(grammar, lit) in fallbacks} == {}


def test_the_scopes_say_what_the_literals_are():
    grammar = gen_textmate.build_grammar(LARK_TEXT)
    expected = {
        "model": "keyword.declaration.kd",
        "for": "keyword.control.loop.kd",
        "import": "keyword.control.import.kd",
        "not": "keyword.operator.logical.kd",
        "None": "constant.language.kd",
        "output": "keyword.other.output.kd",
        "->": "keyword.operator.chain.kd",
        "<=": "keyword.operator.comparison.kd",
        "//": "keyword.operator.arithmetic.kd",
        "-": "keyword.operator.arithmetic.kd",
        "=": "keyword.operator.assignment.kd",
        ";": "punctuation.terminator.statement.kd",
        ",": "punctuation.separator.comma.kd",
    }
    assert {lit: scope_of(grammar, lit) for lit in expected} == expected


def test_a_new_keyword_or_operator_in_kd_lark_reaches_the_grammar():
    # What a future kd would add: a keyword and an operator used in a rule.
    changed = LARK_TEXT.replace('!_arith_op: "+" | "-" | "*" | "/" | "//" | "%"', '!_arith_op: "+" | "-" | "*" | "/" | "//" | "%" | "@"')
    changed = changed.replace('NONE: "None"\n', 'NONE: "None"\nWHILE: "while"\n')
    changed = changed.replace("_stmt: assign\n", "_stmt: assign\n     | WHILE expr body\n")
    assert changed.count("while") == 1 and '"@"' in changed and "WHILE expr" in changed
    grammar = gen_textmate.build_grammar(changed)
    assert scope_of(grammar, "@") == "keyword.operator.arithmetic.kd"  # from the rule it is used in
    assert scope_of(grammar, "while") == gen_textmate.UNKNOWN_KEYWORD_SCOPE  # scoped, but says it needs a decision
    assert scope_of(gen_textmate.build_grammar(LARK_TEXT), "while") is None


def sample_source_lines() -> list:
    """The source lines of the annotated samples, without header and assertion lines."""
    lines = []
    for sample in sorted((TEXTMATE / "tests").glob("*.kd")):
        for line in sample.read_text(encoding="utf-8").splitlines()[1:]:
            if not re.match(r"#\s*(\^|<[~]*-)", line):
                lines.append(line)
    return lines


def test_the_annotated_samples_use_every_literal_of_kd_lark_and_of_kd_1_1():
    code = "\n".join(line.split("#")[0] for line in sample_source_lines() if not line.lstrip().startswith("#"))
    words = set(re.findall(r"[A-Za-z_]\w*", code))
    missing = [lit for lit in lark_literals(LARK_TEXT) if (lit not in words if lit.isidentifier() else lit not in code)]
    assert missing == []
    for kd_1_1 in ("ops.", "...", "::", "None]"):
        assert kd_1_1 in code


@needs_npm
def test_vscode_tmgrammar_test_passes_on_the_annotated_samples():
    result = run(["npm", "run", "-s", "test:grammar"], cwd=VSCODE)
    assert result.returncode == 0, result.stdout + result.stderr
    samples = sorted(p.name for p in (TEXTMATE / "tests").glob("*.kd"))
    assert len(samples) >= 5
    for name in samples:
        assert f"{name} run successfuly" in result.stdout, result.stdout


@needs_npm
def test_vscode_tmgrammar_test_fails_on_a_wrong_assertion(tmp_path):
    wrong = tmp_path / "wrong.kd"
    wrong.write_text('# SYNTAX TEST "source.kd" "a wrong expectation"\nmodel m { }\n# <----- constant.numeric.kd\n')
    grammar = VSCODE / "syntaxes" / "kd.tmLanguage.json"
    shutil.copyfile(GRAMMAR_FILE, grammar)
    result = run([str(VSCODE / "node_modules" / ".bin" / "vscode-tmgrammar-test"), str(wrong)], cwd=VSCODE)
    assert result.returncode != 0
    assert "missing required scopes: constant.numeric.kd" in result.stdout


# ------------------------------------------------------------------ VS Code


@needs_npm
def test_the_node_tests_of_the_extension_and_grammar_pass():
    result = run(["npm", "run", "-s", "test:unit"], cwd=VSCODE)
    assert result.returncode == 0, result.stdout + result.stderr
    passed = int(re.search(r"^# pass (\d+)$", result.stdout, re.M).group(1))
    assert re.search(r"^# fail 0$", result.stdout, re.M) and passed >= 30, result.stdout


def manifest() -> dict:
    return json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))


def test_the_manifest_contributes_the_language_grammar_snippets_and_settings():
    contributes = manifest()["contributes"]
    [language] = contributes["languages"]
    assert (language["id"], language["extensions"]) == ("kd", [".kd"])
    [grammar] = contributes["grammars"]
    assert (grammar["language"], grammar["scopeName"]) == ("kd", "source.kd")
    assert json.loads(GRAMMAR_FILE.read_text())["scopeName"] == "source.kd"
    assert grammar["path"] == "./syntaxes/kd.tmLanguage.json"  # the copy the build makes of editors/textmate's
    assert contributes["snippets"] == [{"language": "kd", "path": "./snippets/kd.json"}]
    settings = contributes["configuration"]["properties"]
    assert set(settings) == {"kdsl.path", "kdsl.inlayHints.enabled", "kdsl.trace.server"}
    assert manifest()["dependencies"].keys() == {"vscode-languageclient"}
    assert manifest()["version"] == __import__("dsl").__version__


def language_configuration() -> dict:
    return json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))


def test_language_configuration_comments_and_brackets():
    config = language_configuration()
    assert config["comments"] == {"lineComment": "#"}
    assert config["brackets"] == [["{", "}"], ["[", "]"], ["(", ")"]]
    assert {p["open"] for p in config["autoClosingPairs"]} == {"{", "[", "(", '"', "'"}
    assert {tuple(p) for p in config["surroundingPairs"]} >= {("{", "}"), ("(", ")"), ('"', '"')}


@pytest.mark.parametrize(
    "line, increase, decrease",
    [
        ("model net(classes=10) {", True, False),
        ("    if x.shape[-1] != filters {  # a comment", True, False),
        ("    } else {", True, True),
        ("    x = Conv2D(", True, False),
        ("    for i in [", True, False),
        ("    x = Dense(3)(x)", False, False),
        ('    x = Input(name="{")', False, False),
        ("    y = 1  # {", False, False),
        ('    for name in ["a", "b\\"c"] {', True, False),
        ("    model m(name='x') {", True, False),
        ('    y = f("(")  # {', False, False),
        ("}", False, True),
        ("    )(x)", False, True),
    ],
)
def test_indentation_rules(line, increase, decrease):
    rules = language_configuration()["indentationRules"]
    assert bool(re.search(rules["increaseIndentPattern"], line)) == increase
    assert bool(re.search(rules["decreaseIndentPattern"], line)) == decrease


def test_folding_markers():
    markers = language_configuration()["folding"]["markers"]
    assert re.search(markers["start"], "    # region encoder")
    assert re.search(markers["end"], "    # endregion")
    assert not re.search(markers["start"], "    x = region(3)")


def snippet_text(name: str) -> str:
    """A snippet as VS Code inserts it when every placeholder keeps its default."""
    body = "\n".join(json.loads((VSCODE / "snippets" / "kd.json").read_text())[name]["body"])
    while True:
        expanded = re.sub(r"\$\{\d+:([^${}]*)\}", r"\1", body)
        expanded = re.sub(r"\$\{\d+\|([^,|]*)[^|]*\|\}", r"\1", expanded)
        if expanded == body:
            break
        body = expanded
    return re.sub(r"\$\d+", "", body).replace("\t", "    ")


def indented(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


SNIPPET_PROGRAMS = {
    "model": lambda: snippet_text("model"),
    "block": lambda: snippet_text("block") + "\nmodel m { a = Input(shape=(4,)); output b = name(a, 8) }",
    "for": lambda: "model m {\n    x = Input(shape=(4,))\n"
    + indented(snippet_text("for"))
    + "\n    output y = Dense(2)(x)\n}",
    "if": lambda: "model m(condition=True) {\n    x = Input(shape=(4,))\n"
    + indented(snippet_text("if"))
    + "\n    output y = Dense(2)(x)\n}",
    "if else": lambda: "model m(condition=True) {\n    x = Input(shape=(4,))\n"
    + indented(snippet_text("if else"))
    + "\n    output y = Dense(2)(x)\n}",
    "Input": lambda: "model m {\n" + indented(snippet_text("Input")) + "\n    output y = Dense(2)(x)\n}",
    "compile": lambda: 'model m {\n    x = Input(shape=(4,))\n    output y = Dense(3, activation="softmax")(x)\n'
    + indented(snippet_text("compile"))
    + "\n}",
}


def test_the_snippets_are_the_ones_asked_for():
    assert set(json.loads((VSCODE / "snippets" / "kd.json").read_text())) == set(SNIPPET_PROGRAMS)


@pytest.mark.parametrize("name", sorted(SNIPPET_PROGRAMS))
def test_each_snippet_with_its_defaults_is_valid_kd(name):
    import dsl

    source = SNIPPET_PROGRAMS[name]()
    module = dsl.compile_source(source, "snippet.kd")
    assert module.startswith("# Code generated by kdsl"), source


@needs_npm
def test_make_vsix_packages_the_extension(tmp_path):
    vsix = tmp_path / "kdsl.vsix"
    # No registry is needed to package: a proxy that answers nothing and npm's offline mode prove it.
    env = dict(os.environ, npm_config_offline="true", HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    result = run(["make", "-s", "vsix", f"VSIX={vsix}"], cwd=REPO, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        packaged = json.loads(archive.read("extension/package.json"))
        grammar = archive.read("extension/syntaxes/kd.tmLanguage.json")
    for required in (
        "extension.vsixmanifest",
        "extension/extension.js",
        "extension/language-configuration.json",
        "extension/snippets/kd.json",
        "extension/node_modules/vscode-languageclient/package.json",
        "extension/node_modules/vscode-languageclient/node.js",
        "extension/node_modules/vscode-jsonrpc/package.json",
    ):
        assert required in names, required
    assert packaged["contributes"]["languages"][0]["id"] == "kd"
    assert packaged["contributes"]["grammars"][0] == {
        "language": "kd",
        "scopeName": "source.kd",
        "path": "./syntaxes/kd.tmLanguage.json",
    }
    assert grammar == GRAMMAR_FILE.read_bytes()  # one grammar: the packaged copy is editors/textmate's
    # Development tools and tests stay out.
    for left_out in (
        "node_modules/@vscode/vsce/",
        "node_modules/vscode-tmgrammar-test/",
        "extension/test/",
        "extension/scripts/",
    ):
        assert not any(left_out in name for name in names), left_out


# --------------------------------------------------------------------- Vim


def vim_with_syntax():
    vim = shutil.which("vim")
    if vim is None:
        return None
    version = run([vim, "--version"], cwd=REPO).stdout
    return vim if "+syntax" in version else None


needs_vim = pytest.mark.skipif(vim_with_syntax() is None, reason="no vim with +syntax (make test-editors installs one)")

VIM_PROBE = r"""
let s:positions = json_decode(join(readfile($KD_PROBE_IN), ''))
let s:out = {'filetype': &filetype, 'commentstring': &commentstring, 'shiftwidth': &shiftwidth,
      \ 'expandtab': &expandtab, 'softtabstop': &softtabstop, 'groups': []}
for [s:line, s:col] in s:positions
  call add(s:out.groups, synIDattr(synID(s:line, s:col, 1), 'name'))
endfor
if $KD_REINDENT != ''
  normal! gg=G
  let s:out.lines = getline(1, '$')
endif
call writefile([json_encode(s:out)], $KD_PROBE_OUT)
qall!
"""


def vim_probe(tmp_path, text, positions=(), reindent=False):
    """Open text as a .kd file in headless Vim with editors/vim on the runtimepath; report what Vim sees."""
    source = tmp_path / "probe.kd"
    source.write_text(text)
    (tmp_path / "in.json").write_text(json.dumps(list(positions)))
    (tmp_path / "probe.vim").write_text(VIM_PROBE)
    env = dict(
        os.environ,
        KD_PROBE_IN=str(tmp_path / "in.json"),
        KD_PROBE_OUT=str(tmp_path / "out.json"),
        KD_REINDENT="1" if reindent else "",
    )
    result = run(
        [
            vim_with_syntax(),
            "-Nu",
            "NONE",
            "-i",
            "NONE",
            "-n",
            "-es",
            "--cmd",
            f"set rtp^={VIM_DIR}",
            "--cmd",
            "filetype plugin indent on",
            "--cmd",
            "syntax on",
            "-S",
            str(tmp_path / "probe.vim"),
            str(source),
        ],
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads((tmp_path / "out.json").read_text())


@needs_vim
def test_vim_detects_kd_and_sets_comments_and_indentation(tmp_path):
    seen = vim_probe(tmp_path, "model m { }\n")
    assert seen["filetype"] == "kd"
    assert seen["commentstring"] == "# %s"
    assert (seen["shiftwidth"], seen["expandtab"], seen["softtabstop"]) == (4, 1, 4)


VIM_SAMPLE = """\
## Doc comment.
from my.layers import Gated as G
model qa(vocab=10, shape=(1, 2), d={a: 1, b: 2}) {
    x = Conv2D(64, padding="s\\n")(y) -> Dense(3)  # note
    z = concatenate(a, b, axis=-1) + ops.mean(x, axis=1)[..., 0]
    if x.shape[-1] != 1.5e-3 and not True { output w = blk(x) }
    compile(optimizer="adam")
}
"""

# (line, text to find on it, nth occurrence, the group Vim should give it), written by hand.
VIM_EXPECTED = [
    (1, "## Doc", 0, "kdDocComment"),
    (2, "from", 0, "kdInclude"),
    (2, "my.layers", 0, "kdFromModule"),
    (2, "as", 0, "kdAs"),
    (3, "model", 0, "kdDeclaration"),
    (3, "qa", 0, "kdDefName"),
    (3, "vocab", 0, "kdParam"),
    (3, "10", 0, "kdNumber"),
    (3, "shape", 0, "kdParam"),
    (3, "b", 1, "kdDict"),
    (4, "Conv2D", 0, "kdClass"),
    (4, "padding", 0, "kdKeywordArg"),
    (4, '"s', 0, "kdString"),
    (4, "\\n", 0, "kdEscape"),
    (4, "->", 0, "kdArrow"),
    (4, "Dense", 0, "kdClass"),
    (4, "# note", 0, "kdComment"),
    (5, "concatenate", 0, "kdBuiltin"),
    (5, "axis", 0, "kdKeywordArg"),
    (5, "ops", 0, "kdOpsNamespace"),
    (5, "mean", 0, "kdOpsFunction"),
    (5, "...", 0, "kdEllipsis"),
    (5, "+", 0, "kdOperator"),
    (6, "if", 0, "kdConditional"),
    (6, "shape", 0, "kdProperty"),
    (6, "!=", 0, "kdOperator"),
    (6, "1.5e-3", 0, "kdNumber"),
    (6, "and", 0, "kdOperatorWord"),
    (6, "True", 0, "kdConstant"),
    (6, "output", 0, "kdStatement"),
    (6, "blk", 0, "kdFunctionCall"),
    (7, "compile", 0, "kdBuiltin"),
    (7, "optimizer", 0, "kdKeywordArg"),
]


def column(line: str, needle: str, nth: int) -> int:
    index = -1
    for _ in range(nth + 1):
        index = line.index(needle, index + 1)
    return index + 1


@needs_vim
def test_vim_syntax_groups(tmp_path):
    lines = VIM_SAMPLE.splitlines()
    positions = [(n, column(lines[n - 1], needle, nth)) for n, needle, nth, _ in VIM_EXPECTED]
    seen = vim_probe(tmp_path, VIM_SAMPLE, positions)
    got = [(n, needle, group) for (n, needle, _, _), group in zip(VIM_EXPECTED, seen["groups"])]
    assert got == [(n, needle, group) for n, needle, _, group in VIM_EXPECTED]


# kdsl fmt's layout (LANGUAGE.md section 11), written by hand.
CANONICAL = """\
## A doc comment.
model net(classes=10) {
    image = Input(shape=(32, 32, 3))
    x = image
        -> Conv2D(64, 7, strides=2)
        -> Conv2D(
            128,
            3,
            padding="same",
        )
        -> BatchNormalization()
    # a comment above a statement
    if classes > 2 {
        y = x -> Dense(classes)
    } else if classes == 2 {
        y = Dense(1, name="{")(x)
    } else {
        y = x
            -> Dense(1)
    }
    for i in [
        1,
        2,
    ] {
        z = 1
    }
    output label = Dense(
        classes,
        activation="softmax",
    )(y)
    compile(
        optimizer="adam",
        loss={label: "mse"},
    )
}

block b(x) { return x }
"""


@needs_vim
def test_vim_reindents_to_the_canonical_layout(tmp_path):
    flat = "\n".join(line.strip() for line in CANONICAL.splitlines()) + "\n"
    seen = vim_probe(tmp_path, flat, reindent=True)
    assert seen["lines"] == CANONICAL.splitlines()
