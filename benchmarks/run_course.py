"""Run every lesson as a learner runs it; measure its time and peak memory; gather its results.

    python benchmarks/run_course.py                      # all lessons
    python benchmarks/run_course.py 05 08                # lessons whose stem starts with these
    python benchmarks/run_course.py --json out.json      # also write the figures as JSON

What is measured. Each lesson runs in its own subprocess that executes the notebook with
nbclient in a fresh ``python3`` kernel started with **default kernel settings**, exactly
as JupyterLab starts it for a learner (ipykernel's ``capture_fd_output`` on, so output
written at the file-descriptor level by TensorFlow's C++ runtime is captured and sent to
the notebook). The time runs from before the kernel starts to after the last cell, so
kernel start and ``import tensorflow`` are included. Peak memory is the kernel's peak
resident set, read from ``getrusage(RUSAGE_CHILDREN)`` once it has exited; kernel CPU is
the kernel's user+system CPU seconds (training keeps about one core busy, so on an idle 2-core
machine the wall time is 0.8-1.0 x the kernel CPU; on a busy machine the CPU figure is the better
estimate of a learner's time). The host can also take CPU time from this machine ("steal", as
virtual machines do): the table reports the share stolen while each lesson ran, since a
noisy neighbour can slow a lesson by half without anything in the lesson changing. Such a machine can
also run slower without any steal at all (on this course's 2-core VM, unchanged lessons took up to 1.9x
longer from one hour to the next): just before each lesson three fixed reference workloads are timed
(a Python loop, float32 matrix products, touching freshly allocated memory: what tracing, training and
allocating tensors need), and the table reports their seconds beside the lesson's, so that runs on
different machines or machine states can be compared. Per lesson the five
slowest cells are reported (cell index in the notebook, seconds from ``execute_input`` to
``execute_reply`` as recorded by nbclient, first code line), so it is obvious where a
lesson spends its time. The metrics are those the lesson passes to
``mmgen_lib.utils.report`` (written to ``$MMGEN_RESULTS_DIR``). Nothing is written into
``lessons/``. The Markdown table it prints is the README's results table.

Budgets: 45 s and 2 GB per lesson, 12 min for the whole course (17 lessons).

Does output capture cost seconds (issue 12)? With ``capture_fd_output`` on, ipykernel
redirects the kernel's file descriptors 1 and 2 into pipes; a thread blocked in ``os.read``
forwards whatever arrives to the notebook as ``stream`` messages (and to the terminal). It
costs nothing while nothing is written, so the cost is proportional to what TensorFlow's
C++ runtime writes to fd 2. Measured on this course (TF 2.21, 2 cores, capture on): the
runtime writes only a handful of lines per lesson -- the start-up banners when TensorFlow
is imported (oneDNN, CUDA drivers, CPU features, ``cuInit``; ~8 lines), oneDNN's "DT_BOOL
... Falling back" note once per process (lesson 06), and under ``MirroredStrategy`` one
"GeneratorDatasetOp ... will not be optimized" warning per ``fit``/``predict`` (lesson 13).
``fit``/``predict`` on NumPy arrays or batched datasets wrote no per-epoch "End of
sequence" lines. A micro-benchmark (20 epochs of ``fit`` on a dataset, on arrays and under
``MirroredStrategy``) used 24.2 s of kernel CPU with capture on and 25.5 s with it off;
lesson 05 (before its speed-up) used 99 s with capture on and 115 s with it off, on the
same busy machine: capture itself is free here, and the 6-10 s of issue 12 are within the
run-to-run spread of a shared machine (compare kernel CPU, not wall time). So nothing has
to be hidden: the benchmark and ``tools/build_notebooks.py`` run what a learner runs, and
the build removes the known start-up lines from the saved notebooks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
LESSON_BUDGET_S, MEMORY_BUDGET_MB = 45.0, 2048.0
COURSE_BUDGET_S = LESSON_BUDGET_S * len(list(LESSONS.glob("[0-9][0-9]_*.ipynb")))  # 45 s for every lesson
SLOWEST = 5
REFERENCE_LOOP, REFERENCE_MATMULS, REFERENCE_FRESH_MB = 3_000_000, 40, 128
REFERENCE_PARTS = ("python", "matmul", "fresh_memory")


def _as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def cell_seconds(notebook) -> list[dict]:
    """Per executed code cell: index, seconds (execute_input → execute_reply) and first code line."""
    cells = []
    for index, cell in enumerate(notebook.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if cell.cell_type != "code" or "iopub.execute_input" not in timing or "shell.execute_reply" not in timing:
            continue
        seconds = (
            _as_datetime(timing["shell.execute_reply"]) - _as_datetime(timing["iopub.execute_input"])
        ).total_seconds()
        lines = [line.strip() for line in cell.source.splitlines()]
        code = [line for line in lines if line and not line.startswith("#")]
        cells.append({"cell": index, "seconds": round(seconds, 2), "first_line": (code[0] if code else "")[:80]})
    return cells


def stderr_lines(notebook) -> int:
    """Number of lines the kernel sent to the notebook's stderr (TF C++ logs arrive here with capture on)."""
    return sum(
        output.get("text", "").count("\n")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    )


def run_one(notebook_path: str, capture: bool = True) -> dict:
    """Execute one notebook in a default kernel (a child of this process); time, memory, slowest cells."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        record_timing=True,
        resources={"metadata": {"path": str(LESSONS)}},
        extra_arguments=[] if capture else ["--IPKernelApp.capture_fd_output=False"],
    )
    error = None
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ''}"
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cells = cell_seconds(notebook)
    slowest = sorted(cells, key=lambda c: -c["seconds"])[:SLOWEST]
    return {
        "seconds": seconds,
        "kernel_cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,  # Linux: kB
        "cells_s": round(sum(c["seconds"] for c in cells), 2),
        "stderr_lines": stderr_lines(notebook),
        "slowest_cells": slowest,
        "error": error,
    }


def reference_seconds() -> dict:
    """Seconds this machine needs right now for three fixed workloads (lower is faster).

    ``python``: a loop in the interpreter (which runs Keras and TensorFlow's tracing);
    ``matmul``: float32 matrix products (the arithmetic of training); ``fresh_memory``: touching
    newly allocated memory (the page faults of new tensors, slow where a virtual machine's host
    has taken freed memory back). They tell machines and machine states apart; they do not
    predict a single lesson's time (on a shared host the third varies from one minute to the next).
    """
    import numpy as np

    seconds = {}
    started = time.perf_counter()
    total = 0
    for i in range(REFERENCE_LOOP):
        total += i
    seconds["python"] = time.perf_counter() - started
    started = time.perf_counter()
    matrix = np.full((512, 512), 1 / 512, np.float32)
    for _ in range(REFERENCE_MATMULS):
        matrix = matrix @ matrix
    seconds["matmul"] = time.perf_counter() - started
    started = time.perf_counter()
    fresh = np.ones(REFERENCE_FRESH_MB * 2**20 // 8)
    seconds["fresh_memory"] = time.perf_counter() - started
    assert total > 0 and np.isfinite(matrix).all() and fresh[-1] == 1.0  # keep the work from being skipped
    return seconds


def format_reference(reference) -> str:
    """``python / matmul / fresh memory`` seconds, or "—" when there is no reading."""
    if not isinstance(reference, dict):
        return "—"
    return " / ".join(f"{reference[part]:.2f}" for part in REFERENCE_PARTS)


def cpu_jiffies(stat_text: str | None = None) -> tuple[int, int] | None:
    """(steal, total) CPU time in jiffies from ``/proc/stat``'s first line; None where there is none.

    The fields are user, nice, system, idle, iowait, irq, softirq, steal (then guest times, which
    are already counted in user and nice).
    """
    if stat_text is None:
        try:
            stat_text = Path("/proc/stat").read_text()
        except OSError:
            return None
    fields = [int(value) for value in stat_text.splitlines()[0].split()[1:9]]
    fields += [0] * (8 - len(fields))
    return fields[7], sum(fields)


def steal_share(before, after) -> float:
    """Share of the machine's CPU time taken by the host (steal) between two :func:`cpu_jiffies` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return float("nan")
    return (after[0] - before[0]) / (after[1] - before[1])


def measure(notebook: Path, results_dir: Path, capture: bool = True) -> dict:
    env = {**os.environ, "MMGEN_RESULTS_DIR": str(results_dir), "PYTHONHASHSEED": "0"}
    command = [sys.executable, __file__, "--one", str(notebook)] + ([] if capture else ["--no-capture"])
    reference = reference_seconds()
    before = cpu_jiffies()
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    stolen = steal_share(before, cpu_jiffies())
    if proc.returncode != 0:
        return {
            "seconds": float("nan"),
            "kernel_cpu_s": float("nan"),
            "peak_mb": float("nan"),
            "steal": stolen,
            "reference_s": reference,
            "slowest_cells": [],
            "error": proc.stderr.strip()[-300:],
        }
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["steal"] = stolen
    row["reference_s"] = reference
    metrics_file = results_dir / f"{notebook.stem}.json"
    row["metrics"] = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    return row


def gather_scoreboard(results_dir: Path) -> list[dict]:
    """The generator rows the lessons wrote with ``scoreboard.score_generator`` (one JSON file each)."""
    return [json.loads(path.read_text()) for path in sorted((results_dir / "scoreboard").glob("*.json"))]


def format_metrics(metrics: dict) -> str:
    parts = []
    for name, value in metrics.items():
        parts.append(f"{name} {value:.3f}" if isinstance(value, float) else f"{name} {value}")
    return ", ".join(parts) if parts else "—"


def format_slowest(cells: list[dict]) -> str:
    return "; ".join(f"[{c['cell']}] {c['seconds']:.1f} s `{c['first_line'][:40]}`" for c in cells) or "—"


def markdown(rows: dict, machine: str, capture: bool = True) -> str:
    settings = (
        "default kernel settings (output capture on, as in JupyterLab)"
        if capture
        else "kernel output capture OFF (--IPKernelApp.capture_fd_output=False; not what a learner gets)"
    )
    lines = [
        f"Measured {date.today().isoformat()} on {machine}; {settings}; time includes kernel start.",
        "",
        "| lesson | time (s) | kernel CPU (s) | CPU stolen by the host | reference: Python / matmul / fresh memory (s) "
        "| peak memory (MB) "
        "| reported results |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for stem, row in rows.items():
        flag = " ⚠" if row.get("error") or row["seconds"] > LESSON_BUDGET_S or row["peak_mb"] > MEMORY_BUDGET_MB else ""
        result = f"**failed**: {row['error']}" if row.get("error") else format_metrics(row.get("metrics", {}))
        lines.append(
            f"| {stem}{flag} | {row['seconds']:.1f} | {row.get('kernel_cpu_s', float('nan')):.1f} | "
            f"{row.get('steal', float('nan')):.0%} | {format_reference(row.get('reference_s'))} | "
            f"{row['peak_mb']:.0f} | {result} |"
        )
    total = sum(row["seconds"] for row in rows.values())
    peak = max(row["peak_mb"] for row in rows.values())
    lines.append(
        f"| **whole course** | **{total:.0f}** | | | | **{peak:.0f}** (max) | budgets: {LESSON_BUDGET_S:.0f} s per "
        f"lesson, {COURSE_BUDGET_S:.0f} s in all, {MEMORY_BUDGET_MB:.0f} MB |"
    )
    lines += [
        "",
        "Slowest cells per lesson ([cell index] seconds `first code line`):",
        "",
        "| lesson | slowest cells |",
        "|---|---|",
    ]
    for stem, row in rows.items():
        lines.append(f"| {stem} | {format_slowest(row.get('slowest_cells', []))} |")
    return "\n".join(lines)


def machine_description() -> str:
    try:
        import psutil

        memory = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        memory = ""
    import keras
    import tensorflow as tf  # noqa: F401 - version only

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores{memory}, no GPU; "
        f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="stems or prefixes (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--no-capture",
        action="store_true",
        help="start kernels with capture_fd_output=False (for comparison only; not a learner's setting)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    capture = not args.no_capture
    if args.one:
        print(json.dumps(run_one(args.one, capture=capture)))
        return 0
    notebooks = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    if args.lessons:
        notebooks = [n for n in notebooks if any(n.stem.startswith(p) for p in args.lessons)]
    if not notebooks:
        print("no lessons matched", file=sys.stderr)
        return 2
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for notebook in notebooks:
            rows[notebook.stem] = measure(notebook, Path(tmp), capture=capture)
            row = rows[notebook.stem]
            print(
                f"{notebook.stem}: {row['seconds']:.1f} s, kernel CPU {row.get('kernel_cpu_s', float('nan')):.1f} s, "
                f"reference {format_reference(row.get('reference_s'))} s, "
                f"{row['peak_mb']:.0f} MB, {row.get('stderr_lines', 0)} stderr lines; slowest: "
                f"{format_slowest(row.get('slowest_cells', []))}"
                + (f", FAILED: {row['error']}" if row.get("error") else ""),
                file=sys.stderr,
                flush=True,
            )
        generators = gather_scoreboard(Path(tmp))
    machine = machine_description()
    print(markdown(rows, machine, capture))
    if generators:
        from mmgen_lib.scoreboard import scoreboard_markdown

        print(
            "\nGenerators, scored the same way by `mmgen_lib.scoreboard.score_generator` "
            "(test captions; held-out combinations; diversity on an attribute the caption leaves out):\n"
        )
        print(scoreboard_markdown(generators))
    if args.json:
        settings = "default kernel settings (capture_fd_output on)" if capture else "capture_fd_output=False"
        args.json.write_text(
            json.dumps(
                {
                    "date": date.today().isoformat(),
                    "machine": machine,
                    "kernel_settings": settings,
                    "lessons": rows,
                    "generators": generators,
                },
                indent=2,
            )
            + "\n"
        )
    failed = any(row.get("error") for row in rows.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
