"""How fast is `kdsl fmt` on a 1,000-layer file?

    python benchmarks/bench_fmt.py [--layers 1000] [--runs 7]

Two generated files of LAYERS layer statements each: the chain of
bench_check.py (`x = Dense(8)(x)`), and a convolutional network whose
statements carry keyword arguments, chains of three steps and a comment
every ten layers.  Each is measured laid out canonically (what `kdsl fmt
--check` sees in CI) and laid out badly (no spaces, single quotes, `;`
between statements, so every line changes).  Median seconds, in process:

- parse: `dsl.syntax.parse` alone (Lark);
- print: `format_module` on the parsed module (the printer alone);
- fmt: `format_text`, what `kdsl fmt` does per file: parse, print, and the
  safety check (parse the output again, compare trees and comments, print
  again); for a file that is already formatted the check is free.

Then the whole `kdsl fmt --check` process (start-up included) on each.  Results are recorded in docs/benchmarks.md.  Run it on an
otherwise idle machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dsl.fmt import format_module, format_text  # noqa: E402
from dsl.syntax import parse  # noqa: E402


def dense_chain(layers: int) -> str:
    body = ["    x = Input(shape=(8,))"] + ["    x = Dense(8)(x)"] * layers + ["    output x"]
    return "model chain {\n" + "\n".join(body) + "\n}\n"


def conv_net(layers: int) -> str:
    body = ["    x = Input(shape=(32, 32, 3))"]
    i = 0
    while i < layers:
        if i % 10 == 0:
            body.append(f"    # Stage {i // 10}.")
        if i % 4 == 3:
            body.append(f'    x = x -> BatchNormalization(name="bn_{i}") -> ReLU() -> Dropout(0.1)  # three layers')
            i += 3
        else:
            body.append(f'    x = Conv2D(64, 3, padding="same", activation="relu", name="conv_{i}")(x)')
            i += 1
    body.append("    output x")
    return "model conv {\n" + "\n".join(body) + "\n}\n"


def messy(text: str) -> str:
    """The same program laid out badly: every line needs reformatting."""
    lines = text.split("\n")
    out = []
    for line in lines:
        code, hash_, comment = line.strip().partition("#")
        code = code.strip().replace(", ", ",").replace(" = ", "=").replace(" -> ", "->").replace('"', "'")
        if code and not code.endswith("{"):
            code = "  " + code + " ;"
        out.append(code + (" #" + comment if hash_ else ""))
    return "\n".join(out)


def median(fn, runs: int) -> float:
    fn()  # warm up (grammar cache, imports)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(name: str, text: str, runs: int) -> None:
    module = parse(text)
    assert format_text(text) == text, f"{name}: the generated file is not canonical"
    bad = messy(text)
    assert format_text(bad) == text, f"{name}: the messy file does not format to the canonical one"
    parse_s = median(lambda: parse(text), runs)
    print_s = median(lambda: format_module(module), runs)
    clean_s = median(lambda: format_text(text), runs)
    messy_s = median(lambda: format_text(bad), runs)
    statements = text.count("\n") - 2
    print(f"| {name} | {statements:,} | {parse_s:.3f} s | {print_s:.3f} s | {clean_s:.3f} s | {messy_s:.3f} s |")


def whole_process(text: str, runs: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.kd"
        path.write_text(text, encoding="utf-8")
        argv = [sys.executable, "-m", "dsl", "fmt", "--check", str(path)]

        def once():
            status = subprocess.run(argv, capture_output=True, cwd=ROOT).returncode
            assert status in (0, 1), status  # 1: the file would be reformatted

        return median(once, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    files = {"dense chain": dense_chain(args.layers), "conv net": conv_net(args.layers)}
    print(f"{args.layers:,} layers, median of {args.runs} runs, in process")
    print("| file | lines | parse | print | fmt (formatted) | fmt (messy) |")
    print("|---|---|---|---|---|---|")
    for name, text in files.items():
        measure(name, text, args.runs)
    print("\nwhole process `kdsl fmt --check FILE` (start-up included), median seconds")
    print("| file | formatted | messy |")
    print("|---|---|---|")
    for name, text in files.items():
        print(f"| {name} | {whole_process(text, args.runs):.3f} s | {whole_process(messy(text), args.runs):.3f} s |")


if __name__ == "__main__":
    main()
