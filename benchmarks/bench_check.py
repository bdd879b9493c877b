"""How fast is `kdsl check` against building the same model with Keras?

    python benchmarks/bench_check.py [--runs 5] [--keras-runs 3] [--quick]

Prints these tables (results are recorded in docs/benchmarks.md):

0. Start-up: `kdsl check` of a one-layer file against `python -c "import lark"`.
1. Whole processes, median of several runs: `kdsl check` and `kdsl compile
   --stdout` on ResNet50, InceptionV3 and Xception written in kd, against
   `python -c "import keras; keras.applications.X(weights=None)"`.
2. In process: kdsl's check of an already-read source against Keras's model
   construction after `import keras` (startup excluded on both sides); and
   an editor's re-check of ResNet50 after a one-line edit, in a Session.
3. Scaling: `kdsl check` on generated chains and DAGs of 1k, 10k and 100k
   layers: time net of the start-up of a one-layer file, and peak memory.

Run it on an otherwise idle machine; the ratios matter more than the times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {"ResNet50": "resnet50", "InceptionV3": "inception_v3", "Xception": "xception", "DenseNet121": "densenet121"}
KDSL = [sys.executable, "-m", "dsl"]
# Bytecode is cached, as in any installed package (some sandboxes set
# PYTHONDONTWRITEBYTECODE, which would make every start recompile kdsl).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(ROOT))


def _child(argv: list) -> tuple:
    """(wall seconds, resource usage) of one child process; exits on its failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{err}")
    return elapsed, usage


def run_process(argv: list) -> tuple:
    """(wall seconds, peak RSS in MB) of one child process."""
    elapsed, usage = _child(argv)
    return elapsed, usage.ru_maxrss / 1024


def median_process(argv: list, runs: int) -> float:
    run_process(argv)  # warm the file cache
    return statistics.median(run_process(argv)[0] for _ in range(runs))


def run_cpu(argv: list) -> float:
    """CPU seconds (user + system) of one child process: on a shared
    machine they vary less than the wall time, which also counts waiting."""
    _, usage = _child(argv)
    return usage.ru_utime + usage.ru_stime


def start_up(runs: int) -> None:
    """`kdsl check` of a one-layer file against the floor: starting Python
    and importing Lark. The two are run in turns, so that both see the same
    machine (a neighbour's load drifts), and the ratio is the median of
    each turn's ratio."""
    print("\n0. Start-up (median seconds, CPU time of the process)")
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.kd"
        one.write_text(chain_source(1))
        floor_argv, check_argv = [sys.executable, "-c", "import lark"], KDSL + ["check", str(one)]
        run_cpu(floor_argv), run_cpu(check_argv)  # warm the file cache
        floors, checks = [], []
        for _ in range(runs * 4):
            floors.append(run_cpu(floor_argv))
            checks.append(run_cpu(check_argv))
    ratio = statistics.median(c / f for c, f in zip(checks, floors))
    print(f"python -c 'import lark' {statistics.median(floors):.3f}   kdsl check (one layer) "
          f"{statistics.median(checks):.3f}   ratio {ratio:.2f}x")


def whole_process(runs: int, keras_runs: int) -> None:
    print("\n1. Whole process (median seconds; peak memory of kdsl check)")
    print(f"{'model':<12} {'kdsl check':>11} {'peak MB':>8} {'kdsl compile':>13} {'keras build':>12} {'check x':>8} {'compile x':>10}")
    for app, example in EXAMPLES.items():
        path = f"examples/{example}.kd"
        check = median_process(KDSL + ["check", path], runs)
        peak = max(run_process(KDSL + ["check", path])[1] for _ in range(2))
        compile_ = median_process(KDSL + ["compile", "--stdout", path], runs)
        keras = median_process([sys.executable, "-c", f"import keras; keras.applications.{app}(weights=None)"], keras_runs)
        print(f"{app:<12} {check:>11.3f} {peak:>8.1f} {compile_:>13.3f} {keras:>12.3f} {keras / check:>7.1f}x {keras / compile_:>9.1f}x")


def recheck_after_edit(runs: int) -> None:
    """An editor's re-check: a Session (open buffers, parsed items cached) after a one-line edit."""
    import gc

    from dsl.session import Session

    print("\n2b. In process, re-checking ResNet50 after a one-line edit (a session, as the editor does)")
    text = (ROOT / "examples" / "resnet50.kd").read_text()
    session = Session()
    session.analyse(ROOT / "examples" / "resnet50.kd", text)
    times = []
    for i in range(max(runs, 10) * 3):
        gc.collect()  # the language server collects while the editor is idle
        edited = text.replace("classes=1000", f"classes={1000 + i % 5}")
        start = time.perf_counter()
        session.analyse(ROOT / "examples" / "resnet50.kd", edited)
        times.append(time.perf_counter() - start)
    print(f"median {statistics.median(times) * 1000:.1f} ms, best {min(times) * 1000:.1f} ms")


def _median_call(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process(runs: int, keras_runs: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import keras

    from dsl.compiler import check_text

    print("\n2. In process, after imports (median seconds)")
    print(f"{'model':<12} {'kdsl check':>11} {'keras build':>12} {'ratio':>7}")
    for app, example in EXAMPLES.items():
        text = (ROOT / "examples" / f"{example}.kd").read_text()
        ours = _median_call(lambda: check_text(text, f"{example}.kd"), runs)

        def build():
            keras.backend.clear_session()
            getattr(keras.applications, app)(weights=None)

        theirs = _median_call(build, keras_runs)
        print(f"{app:<12} {ours:>11.4f} {theirs:>12.4f} {theirs / ours:>6.1f}x")


def chain_source(layers: int) -> str:
    body = ["    x = Dense(8)(x)"] * (layers - 1)
    return "\n".join(["model chain {", "    x = Input(shape=(8,))", *body, "    output y = Dense(2)(x)", "}"]) + "\n"


def dag_source(layers: int) -> str:
    """A DAG: each step adds a dense branch to the running value (2 layers a step)."""
    body = []
    for i in range((layers - 1) // 2):
        body += [f"    b{i} = Dense(8)(x)", f"    x = add(x, b{i})"]
    return "\n".join(["model dag {", "    x = Input(shape=(8,))", *body, "    output y = Dense(2)(x)", "}"]) + "\n"


def scaling(sizes: list) -> None:
    print("\n3. Scaling of kdsl check (median seconds net of start-up, peak MB)")
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.kd"
        one.write_text(chain_source(1))
        startup = statistics.median(run_process(KDSL + ["check", str(one)])[0] for _ in range(5))
        print(f"start-up (one-layer file): {startup:.3f} s")
        print(f"{'graph':<7} {'layers':>8} {'net s':>8} {'peak MB':>8} {'us/layer':>9}")
        for kind, make in (("chain", chain_source), ("dag", dag_source)):
            previous = None
            for size in sizes:
                path = Path(tmp) / f"{kind}{size}.kd"
                path.write_text(make(size))
                argv = KDSL + ["check", f"--max-layers={max(size * 2, 10)}", str(path)]
                # The median of three below 100,000 layers: one run moves by a tenth here.
                runs = [run_process(argv) for _ in range(3 if size < 100_000 else 1)]
                elapsed, peak = statistics.median(r[0] for r in runs), max(r[1] for r in runs)
                net = max(elapsed - startup, 1e-9)
                growth = f"  x{net / previous:.1f}" if previous else ""
                print(f"{kind:<7} {size:>8,} {net:>8.2f} {peak:>8.0f} {net / size * 1e6:>9.1f}{growth}")
                previous = net


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="runs per kdsl measurement")
    parser.add_argument("--keras-runs", type=int, default=3, help="runs per Keras measurement")
    parser.add_argument("--quick", action="store_true", help="skip 100k layers and take fewer runs")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.keras_runs = 3, 1
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "dsl")], check=True, env=ENV,
                   stdout=subprocess.DEVNULL)
    # Children first: a child's peak memory counts the parent's pages it was
    # forked with, so Keras is imported in this process only at the end.
    start_up(args.runs)
    scaling([1_000, 10_000, 20_000] if args.quick else [1_000, 10_000, 20_000, 100_000])
    whole_process(args.runs, args.keras_runs)
    recheck_after_edit(args.runs)
    in_process(args.runs, args.keras_runs)


if __name__ == "__main__":
    main()
