"""Run every lesson in a fresh kernel; measure its wall time and peak memory; gather its results.

    python benchmarks/run_course.py                      # all lessons
    python benchmarks/run_course.py 05 08                # lessons whose stem starts with these
    python benchmarks/run_course.py --json out.json      # also write the figures as JSON

Each lesson runs in its own subprocess that executes the notebook with nbclient (kernel
start included in the time) and reads the kernel's peak resident memory from
``getrusage(RUSAGE_CHILDREN)`` once the kernel has exited. The metrics are those the
lesson passes to ``mmgen_lib.utils.report`` (written to ``$MMGEN_RESULTS_DIR``).
Nothing is written into ``lessons/``. The Markdown table it prints is the README's
results table. Budgets (COURSE_DESIGN §6): 60 s and 2 GB per lesson, 10 min in all.
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
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
LESSON_BUDGET_S, COURSE_BUDGET_S, MEMORY_BUDGET_MB = 60.0, 600.0, 2048.0


def run_one(notebook_path: str) -> dict:
    """Execute one notebook (in this process's child kernel) and return time and peak memory."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(LESSONS)}},
                            extra_arguments=["--IPKernelApp.capture_fd_output=False"])
    error = None
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001 - reported, not hidden
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ''}"
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: kB
    return {"seconds": seconds, "peak_mb": peak_mb, "error": error}


def measure(notebook: Path, results_dir: Path) -> dict:
    env = {**os.environ, "MMGEN_RESULTS_DIR": str(results_dir), "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, __file__, "--one", str(notebook)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "error": proc.stderr.strip()[-300:]}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    metrics_file = results_dir / f"{notebook.stem}.json"
    row["metrics"] = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
    return row


def format_metrics(metrics: dict) -> str:
    parts = []
    for name, value in metrics.items():
        parts.append(f"{name} {value:.3f}" if isinstance(value, float) else f"{name} {value}")
    return ", ".join(parts) if parts else "—"


def markdown(rows: dict, machine: str) -> str:
    lines = [f"Measured {date.today().isoformat()} on {machine}.", "",
             "| lesson | time (s) | peak memory (MB) | reported results |", "|---|---:|---:|---|"]
    for stem, row in rows.items():
        flag = " ⚠" if row.get("error") or row["seconds"] > LESSON_BUDGET_S or row["peak_mb"] > MEMORY_BUDGET_MB else ""
        result = f"**failed**: {row['error']}" if row.get("error") else format_metrics(row.get("metrics", {}))
        lines.append(f"| {stem}{flag} | {row['seconds']:.1f} | {row['peak_mb']:.0f} | {result} |")
    total = sum(row["seconds"] for row in rows.values())
    peak = max(row["peak_mb"] for row in rows.values())
    lines.append(f"| **whole course** | **{total:.0f}** | **{peak:.0f}** (max) | budgets: {LESSON_BUDGET_S:.0f} s per "
                 f"lesson, {COURSE_BUDGET_S:.0f} s in all, {MEMORY_BUDGET_MB:.0f} MB |")
    return "\n".join(lines)


def machine_description() -> str:
    try:
        import psutil

        memory = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        memory = ""
    import tensorflow as tf  # noqa: F401 - version only
    import keras

    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores{memory}, no GPU; "
            f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="stems or prefixes (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one)))
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
            rows[notebook.stem] = measure(notebook, Path(tmp))
            row = rows[notebook.stem]
            print(f"{notebook.stem}: {row['seconds']:.1f} s, {row['peak_mb']:.0f} MB"
                  + (f", FAILED: {row['error']}" if row.get("error") else ""), file=sys.stderr, flush=True)
    machine = machine_description()
    print(markdown(rows, machine))
    if args.json:
        args.json.write_text(json.dumps({"date": date.today().isoformat(), "machine": machine, "lessons": rows},
                                        indent=2) + "\n")
    failed = any(row.get("error") for row in rows.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
