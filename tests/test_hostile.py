"""Hostile and broken input: never a traceback, never injected code, never a
lost file (issue #4)."""

from __future__ import annotations

import ast
import os
import random
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.cli import main
from dsl.compiler import compile_text
from dsl.limits import Limits

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.kd"))
HOSTILE = sorted((Path(__file__).parent / "hostile").glob("*.kd"))


@contextmanager
def time_limit(seconds: int):
    """Fail instead of hanging (a hang is a bug too)."""

    def expire(signum, frame):
        raise AssertionError(f"kdsl took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def compiles_or_diagnoses(text: str, filename: str = "fuzz.kd", limits: Limits = Limits()):
    """The whole pipeline on TEXT ends in a module or in diagnostics, in time."""
    with time_limit(20):
        result = compile_text(text, filename, None, filename, limits)
    if not result.ok:
        assert any(d.is_error for d in result.diagnostics)
    else:
        compile(result.text, filename, "exec")  # every accepted source gives a valid module
    return result


# ------------------------------------------------ nothing from the source runs


def test_from_lines_and_calls_run_nothing(tmp_path, monkeypatch, capsys):
    """`from os import system` and `system("...")(x)` in a source: checking and
    compiling neither import the module nor call anything."""
    canary = tmp_path / "canary_module.py"
    canary.write_text("import pathlib\npathlib.Path(__file__).with_name('IMPORTED').touch()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    source = tmp_path / "evil.kd"
    source.write_text(
        "from os import system\n"
        "from canary_module import Payload\n"
        "model evil {\n"
        "    x = Input(shape=(4,))\n"
        f'    y: (None, 4) = system("touch {tmp_path}/PWNED")(x)\n'
        '    z: (None, 4) = Payload("__import__(\'os\').system(\'touch PWNED2\')")(y)\n'
        "    output z\n"
        "}\n"
    )
    monkeypatch.chdir(tmp_path)
    imported_before = set(sys.modules)
    # A standard-library module is refused (KD213): nothing is written.
    assert main(["check", str(source)]) == 1
    assert main(["compile", str(source)]) == 1
    assert not (tmp_path / "evil.py").exists()
    # A module of the user's own is named, never imported, never run.
    source.write_text(source.read_text().replace("from os import system\n", "").replace(
        f'    y: (None, 4) = system("touch {tmp_path}/PWNED")(x)\n', "    y = x\n"))
    assert main(["check", str(source)]) == 0
    assert main(["compile", str(source)]) == 0
    assert main(["summary", str(source)]) == 0
    capsys.readouterr()
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "PWNED2").exists()
    assert not (tmp_path / "IMPORTED").exists()
    assert "canary_module" not in set(sys.modules) - imported_before
    # The generated module names it, for Keras to import when it is run.
    text = (tmp_path / "evil.py").read_text()
    assert "from canary_module import Payload" in text


# ------------------------------------------------------ safe generated code

_ALLOWED_BUILTINS = {"range", "len", "str", "int", "float", "min", "max", "abs",
                     "dict", "zip", "ValueError"}  # the last three: layout_map_NAME's check of its mesh


def _module_names(tree: ast.Module) -> set:
    """Names bound at the module's top level: imports, functions, CUSTOM_OBJECTS."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _function_locals(fn: ast.FunctionDef) -> set:
    names = {a.arg for a in fn.args.args + fn.args.kwonlyargs}
    names |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def _check_import(node) -> None:
    if isinstance(node, ast.Import):
        assert [a.name for a in node.names] == ["keras"], ast.unparse(node)


def assert_only_keras_and_own_code(text: str, from_modules: set) -> None:
    """Walk the generated module's ast; fail on any import, call or name that
    did not come from Keras, the module's own functions, the source's `from`
    lines or a short allow-list of builtins.  Names are resolved as Python
    resolves them: a function's locals, then the module, then builtins."""
    tree = ast.parse(text)
    module = _module_names(tree)
    for node in tree.body:
        if isinstance(node, ast.Import):
            assert [a.name for a in node.names] == ["keras"], ast.unparse(node)
        elif isinstance(node, ast.ImportFrom):
            assert (node.module, [a.name for a in node.names]) == ("keras", ["layers"]) or node.module in from_modules, \
                ast.unparse(node)
        elif isinstance(node, ast.Assign):
            assert [t.id for t in node.targets] == ["CUSTOM_OBJECTS"] and isinstance(node.value, ast.Dict)
        elif isinstance(node, ast.FunctionDef):
            visible = _function_locals(node) | module | _ALLOWED_BUILTINS
            for inner in ast.walk(node):
                if isinstance(inner, ast.Name):
                    assert inner.id in visible, f"{node.name}: unexpected name {inner.id!r}"
                elif isinstance(inner, ast.Attribute):
                    assert not inner.attr.startswith("_"), f"private attribute {inner.attr!r}"
                elif isinstance(inner, (ast.Import, ast.ImportFrom, ast.Lambda, ast.Global, ast.Nonlocal, ast.Delete,
                                        ast.With, ast.Try, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef,
                                        ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)) and inner is not node:
                    raise AssertionError(f"{node.name}: unexpected {type(inner).__name__}")
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        else:
            raise AssertionError(f"unexpected top-level statement: {ast.unparse(node)[:80]}")


@pytest.mark.parametrize("path", EXAMPLES + HOSTILE, ids=[p.stem for p in EXAMPLES + HOSTILE])
def test_generated_code_uses_only_keras_and_its_own_names(path):
    from dsl.syntax.parser import parse
    from dsl.syntax.tree import FromImport

    text = path.read_text(encoding="utf-8")
    result = compile_text(text, str(path), path, path.name)
    assert result.ok, result.diagnostics
    from_modules = {i.module for i in parse(text).items if isinstance(i, FromImport)}
    assert_only_keras_and_own_code(result.text, from_modules)


def test_hostile_strings_stay_literals():
    """Names and doc comments that try to close their quotes stay data."""
    path = Path(__file__).parent / "hostile" / "quotes.kd"
    text = compile_text(path.read_text(encoding="utf-8"), "quotes.kd").text
    tree = ast.parse(text)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    names = {kw.value.value for c in calls for kw in c.keywords if kw.arg == "name" and isinstance(kw.value, ast.Constant)}
    assert '") ; import os ; os.system("echo" ; x = ("' in names
    assert "\u202e\\\n\x00" in names
    docs = [ast.get_docstring(f) for f in tree.body if isinstance(f, ast.FunctionDef)]
    assert any('"""); import os; ("""' in (d or "") for d in docs)


# ----------------------------------------------------------------- limits


def test_huge_loop_stops_fast_naming_the_loop():
    result = compiles_or_diagnoses("model m {\n    x = Input(shape=(4,))\n    for i in range(10 ** 9) {\n"
                                   "        x = Dense(4)(x)\n    }\n    output x\n}\n")
    (d,) = [d for d in result.diagnostics if d.is_error]
    assert d.code == "KD405" and d.span.line == 3 and "1,000,000,000 times" in d.message


def test_nested_loops_stop_at_the_step_limit():
    src = ("model m {\n    x = Input(shape=(4,))\n    for i in range(1000) {\n        for j in range(1000) {\n"
           "            k = i\n        }\n    }\n    output x\n}\n")
    result = compiles_or_diagnoses(src, limits=Limits(max_steps=100_000))
    (d,) = [d for d in result.diagnostics if d.is_error]
    assert d.code == "KD405" and "100,000 steps" in d.message and d.span.line == 4


@pytest.mark.parametrize("expr, words", [("10 ** 10 ** 10", "too large"), ('"a" * 10 ** 9', "too large"),
                                         ("[0] * 10 ** 7", "too large"), ("2 ** 5000", "more than 4096 bits")])
def test_constant_limits(expr, words):
    result = compiles_or_diagnoses(f"model m {{\n    x = Input(shape=(4,))\n    k = {expr}\n    output y = Dense(len(str(k)))(x)\n}}\n")
    (d,) = [d for d in result.diagnostics if d.is_error]
    assert d.code == "KD404" and words in d.message


def test_thousands_of_nested_parentheses_work_and_deep_lists_are_an_error():
    ok = compiles_or_diagnoses("model m {\n    x = Input(shape=(" + "(" * 3000 + "4" + ")" * 3000 + ",))\n    output y = Dense(2)(x)\n}\n")
    assert ok.ok
    deep = compiles_or_diagnoses("model m {\n    x = " + "[" * 5000 + "]" * 5000 + "\n}\n")
    assert [d.code for d in deep.diagnostics] == ["KD102"]
    unary = compiles_or_diagnoses("model m {\n    k = " + "-" * 5000 + "1\n}\n")
    assert [d.code for d in unary.diagnostics if d.is_error] == ["KD102"]


def test_deeply_nested_block_calls_are_an_error_not_a_crash():
    blocks = [f"block b{i}(x) {{ return b{i + 1}(x) }}" for i in range(400)] + ["block b400(x) { return Dense(2)(x) }"]
    src = "\n".join(blocks) + "\nmodel m {\n    x = Input(shape=(4,))\n    output y = b0(x)\n}\n"
    result = compiles_or_diagnoses(src)
    assert [d.code for d in result.diagnostics if d.is_error] == ["KD102"]


def test_file_size_limit():
    result = compiles_or_diagnoses("model m { x = Input(shape=(4,)); output x }\n" + "#" * 200, limits=Limits(max_file_bytes=100))
    assert [d.code for d in result.diagnostics] == ["KD103"]


def test_graph_size_limit():
    src = "model m {\n    x = Input(shape=(4,))\n    for i in range(100) { x = Dense(4)(x) }\n    output y = Dense(1)(x)\n}\n"
    result = compiles_or_diagnoses(src, limits=Limits(max_layers=50))
    assert [d.code for d in result.diagnostics if d.is_error] == ["KD406"]


def test_chain_of_100k_steps_checks():
    from dsl.compiler import check_text

    src = "model m {\n    x = Input(shape=(4,))\n    y = x" + " -> ReLU()" * 100_000 + "\n    output y\n}\n"
    with time_limit(120):
        result = check_text(src, "chain.kd")
    assert result.ok, result.diagnostics[:3]
    assert len(result.graphs["m"].nodes) == 100_000


def test_limits_can_be_raised_on_the_command_line(tmp_path, capsys):
    src = tmp_path / "m.kd"
    src.write_text("model m {\n    x = Input(shape=(4,))\n    for i in range(100) { x = Dense(4)(x) }\n    output y = Dense(1)(x)\n}\n")
    assert main(["check", "--max-layers", "50", str(src)]) == 1
    assert main(["check", "--max-layers", "500", str(src)]) == 0
    capsys.readouterr()


# ---------------------------------------------------------- nothing lost


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    from dsl import files

    target = tmp_path / "m.py"
    target.write_text("# Code generated by kdsl 0.0.0 from m.kd. DO NOT EDIT.\nold = True\n")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(target, "new = True\n")
    assert target.read_text().endswith("old = True\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.py"]


def test_atomic_write_keeps_permissions(tmp_path):
    from dsl import files

    target = tmp_path / "m.py"
    target.write_text("old\n")
    target.chmod(0o640)
    files.atomic_write(target, "new\n")
    assert target.read_text() == "new\n" and (target.stat().st_mode & 0o777) == 0o640


def test_errors_in_one_file_write_nothing_for_it_and_still_report_others(tmp_path, capsys):
    (tmp_path / "good.kd").write_text("model good { x = Input(shape=(2,)); output y = Dense(2)(x) }\n")
    (tmp_path / "bad1.kd").write_text("model bad1 { x = Input(shape=(2,)); output y = Dense(2)(q) }\n")
    (tmp_path / "bad2.kd").write_text("model bad2 { x = = 1 }\n")
    code = main(["compile", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "bad1.kd:1:57" in err and "bad2.kd:1:18" in err
    assert sorted(p.name for p in tmp_path.glob("*.py")) == ["good.py"]


# ------------------------------------------------------------- determinism


def test_output_is_byte_identical_across_hash_seeds_and_directories(tmp_path):
    source = ROOT / "examples" / "inception_v3.kd"
    outputs = []
    for seed, cwd in (("0", ROOT), ("1", tmp_path), ("12345", Path("/"))):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "dsl", "compile", "--stdout", str(source)], cwd=cwd, env=env,
                              capture_output=True)
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    text = outputs[0].decode()
    assert str(ROOT) not in text and "/tmp" not in text
    assert text.splitlines()[0] == f"# Code generated by kdsl {__import__('dsl').__version__} from inception_v3.kd. DO NOT EDIT."


# --------------------------------------------------------------- fuzzing


def _grammar_programs():
    from hypothesis.extra.lark import from_lark
    import lark

    grammar = (ROOT / "grammar" / "kd.lark").read_text()
    parser = lark.Lark(grammar, parser="lalr", lexer="basic", start="start")
    layout = {"_SEP": st.sampled_from([";", "\n"]), "LBODY": st.just(" {\n"), "RBODY": st.just("\n}\n"),
              "LDICT": st.just("{"), "RDICT": st.just("}")}
    return from_lark(parser, start="start", explicit=layout)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(text=_grammar_programs())
def test_fuzz_programs_from_the_grammar(text):
    compiles_or_diagnoses(text)


def _tokens(text: str) -> list:
    import re

    return re.findall(r"\s+|\w+|\"[^\"\n]*\"|'[^'\n]*'|->|\*\*|//|[=!<>]=|.", text)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_mutated_examples(data):
    path = data.draw(st.sampled_from(EXAMPLES), label="example")
    tokens = _tokens(path.read_text())
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        i = data.draw(st.integers(0, len(tokens) - 1), label="index")
        j = data.draw(st.integers(0, len(tokens) - 1), label="other")
        kind = data.draw(st.sampled_from(["delete", "duplicate", "swap", "replace"]), label="kind")
        if kind == "delete":
            del tokens[i]
        elif kind == "duplicate":
            tokens.insert(i, tokens[i])
        elif kind == "swap":
            tokens[i], tokens[j] = tokens[j], tokens[i]
        else:
            tokens[i] = data.draw(st.sampled_from(["(", ")", "{", "}", "->", ",", "0", "None", "x.shape", "-1", "\n",
                                                   "'", "=", "for", "output", "Dense(", "#", "1e999", "\\"]))
    compiles_or_diagnoses("".join(tokens), path.name)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=st.binary(max_size=400))
def test_fuzz_random_bytes(data, tmp_path_factory):
    """Invalid UTF-8, control characters, NUL bytes, empty files: exit 0 or 1,
    a clean message, never a traceback."""
    path = tmp_path_factory.mktemp("bytes") / "fuzz.kd"
    path.write_bytes(data)
    from io import StringIO

    err = StringIO()
    stderr, sys.stderr = sys.stderr, err
    try:
        with time_limit(20):
            code = main(["check", str(path)])
    finally:
        sys.stderr = stderr
    assert code in (0, 1), err.getvalue()
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue()


def test_empty_file_is_fine(tmp_path, capsys):
    empty = tmp_path / "empty.kd"
    empty.write_text("")
    assert main(["check", str(empty)]) == 0
    assert main(["compile", str(empty)]) == 0
    assert (tmp_path / "empty.py").read_text().startswith("# Code generated by kdsl")
    capsys.readouterr()


def test_random_token_soup_from_a_seed():
    """A quick smoke over random soups of kd tokens (seeded, reproducible)."""
    rng = random.Random(4)
    vocab = ["model", "block", "m", "x", "y", "(", ")", "{", "}", "[", "]", "=", "->", ",", ";", "\n", "output",
             "return", "for", "in", "if", "else", "Input", "Dense", "add", "1", "2.5", '"s"', ":", ".", "shape",
             "+", "*", "not", "and", "import", "from", "None", "True"]
    for _ in range(200):
        compiles_or_diagnoses(" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 40))))


_BAD_VALUES = ['"abc"', "-1", "0", "3.5", "None", "(1, 2, 3)", "[]", "True", "1e999", "(0, 0)", '"same"', "(None,)"]
_FILLERS = {"units": "4", "filters": "4", "kernel_size": "2", "rate": "0.5", "target_shape": "(8,)", "dims": "(1,)",
            "n": "2", "input_dim": "10", "output_dim": "4", "num_heads": "2", "key_dim": "2", "equation": '"ab,bc->ac"',
            "output_shape": "4", "layer": "Dense(2)", "height": "2", "width": "2", "scale": "1.0", "stddev": "0.1"}


@st.composite
def _bad_layer_calls(draw):
    from dsl import catalog
    from dsl.shapes.base import RULES

    cat = catalog.load()
    cls = draw(st.sampled_from(sorted(c for c in RULES if cat.layer(c) is not None and cat.layer(c).params)))
    info = cat.layer(cls)
    args = {p.name: _FILLERS.get(p.name, "1") for p in info.params if p.required}
    args[draw(st.sampled_from([p.name for p in info.params]))] = draw(st.sampled_from(_BAD_VALUES))
    shape = draw(st.sampled_from(["(8,)", "(6, 8)", "(6, 6, 8)", "(4, 4, 4, 8)"]))
    call = ", ".join(f"{k}={v}" for k, v in args.items())
    return f"model m {{\n    x = Input(shape={shape})\n    output y = {cls}({call})(x)\n}}\n"


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(source=_bad_layer_calls())
def test_fuzz_layer_arguments_of_the_wrong_type(source):
    """Every layer with a shape rule, given a wrong value for one argument:
    a diagnostic (or a valid layer), never an exception."""
    compiles_or_diagnoses(source)


def test_a_path_with_newlines_cannot_escape_the_header_comment(tmp_path, capsys):
    folder = tmp_path / "d\nimport os\nos.system('x')\n"
    folder.mkdir()
    (folder / "m.kd").write_text("model m { x = Input(shape=(2,)); output y = Dense(2)(x) }\n")
    out = tmp_path / "out"
    assert main(["compile", str(folder / "m.kd"), "-o", str(out)]) == 0
    capsys.readouterr()
    text = (out / "m.py").read_text()
    first = text.splitlines()[0]
    assert first.startswith("# Code generated by kdsl") and first.endswith(". DO NOT EDIT.")
    assert "\\x0aimport os" in first
    assert_only_keras_and_own_code(text, set())
