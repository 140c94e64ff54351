"""Build the lesson notebooks from their reviewable sources, by executing them.

Each lesson is written as a jupytext "percent" script, ``lessons/src/NN_topic.py``
(cell tags as ``# %% tags=["raises-exception"]``). This tool turns each script into
``lessons/NN_topic.ipynb``, executes it top to bottom in a fresh kernel (so every
committed output is real), and strips the noise that would make diffs unreadable:
timing metadata and per-cell metadata other than tags.

    python tools/build_notebooks.py                 # every lesson
    python tools/build_notebooks.py 01 05_fusion    # lessons whose stem starts with these

Outputs are never edited by hand: change the source and rebuild.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "lessons" / "src"
LESSONS = ROOT / "lessons"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop metadata noise; keep tags, outputs and execution counts.

    Execution counts stay because nbval treats a cell with outputs but no count as
    "unrun"; from a fresh top-to-bottom run they are simply 1, 2, 3, ... so they are
    deterministic and do not add noise to diffs.
    """
    notebook.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC,
                                            "language_info": {"name": "python"}})
    for index, cell in enumerate(notebook.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        cell.metadata = nbformat.from_dict({"tags": tags} if tags else {})
        cell.id = f"cell-{index:03d}"
    return notebook


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(source: Path, timeout: int = 600) -> tuple[Path, float, float]:
    """Execute one source; return the notebook path, wall seconds and kernel CPU seconds."""
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = KERNELSPEC
    cpu_before = _children_cpu_seconds()
    started = time.perf_counter()
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(LESSONS)}},
        # Keep TF's C++ start-up lines out of the saved outputs (COURSE_DESIGN §5).
        extra_arguments=["--IPKernelApp.capture_fd_output=False"],
    )
    client.execute()  # shuts the kernel down, so its CPU time is counted below
    seconds = time.perf_counter() - started
    cpu_seconds = _children_cpu_seconds() - cpu_before
    target = LESSONS / f"{source.stem}.ipynb"
    nbformat.write(clean(notebook), target)
    return target, seconds, cpu_seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="stems or prefixes (default: all)")
    args = parser.parse_args(argv)
    sources = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if args.lessons:
        sources = [s for s in sources if any(s.stem.startswith(p) for p in args.lessons)]
    if not sources:
        print("no lesson sources matched", file=sys.stderr)
        return 2
    os.environ.setdefault("PYTHONHASHSEED", "0")
    for source in sources:
        target, seconds, cpu_seconds = build(source)
        size_kb = target.stat().st_size / 1024
        # On a busy machine wall time is inflated; kernel CPU time / 2 cores is a fair
        # estimate of the wall time on an idle 2-core machine.
        print(f"{target.relative_to(ROOT)}: wall {seconds:.1f} s, kernel CPU {cpu_seconds:.1f} s "
              f"(~{cpu_seconds / 2:.0f} s wall on an idle 2-core machine), {size_kb:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
