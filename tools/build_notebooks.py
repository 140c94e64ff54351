"""Build the lesson notebooks from their reviewable sources, by executing them.

Each lesson is written as a jupytext "percent" script, ``lessons/src/NN_topic.py``
(cell tags as ``# %% tags=["raises-exception"]``). This tool turns each script into
``lessons/NN_topic.ipynb``, executes it top to bottom in a fresh kernel (so every
committed output is real), and strips the noise that would make diffs unreadable:
timing metadata and per-cell metadata other than tags.

The kernel runs with **default kernel settings** (ipykernel's ``capture_fd_output`` on), as
a learner's JupyterLab runs it, so the build time is the learner's time. With capture on,
TensorFlow's C++ runtime lines written to file descriptor 2 (the oneDNN / CUDA / CPU-feature
start-up banners, absl's "All log messages before absl::InitializeLog()" notice, oneDNN's
DT_BOOL / DT_INT32 fallback notes, ``MirroredStrategy``'s "GeneratorDatasetOp ... will not be optimized",
``local_rendezvous`` "End of sequence") arrive in the notebook as ``stderr`` stream
outputs. They would make the saved outputs machine-dependent and noisy, so ``clean`` removes
exactly those known lines (``TF_LOG_LINE`` below, one pattern per known message, tested in
``tests/test_build_notebooks.py``) from ``stderr`` streams, and drops a stream left empty.
Anything else on stderr (a Python warning, an unknown TF error) stays visible.

    python tools/build_notebooks.py                 # every lesson
    python tools/build_notebooks.py 01 05_fusion    # lessons whose stem starts with these
    python tools/build_notebooks.py --check         # only compare sources and notebooks (pre-commit)
    python tools/build_notebooks.py --prose 05      # only markdown changed: copy it, keep the executed outputs

Outputs are never edited by hand: change the source and rebuild.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sys
import time
from datetime import datetime
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "lessons" / "src"
LESSONS = ROOT / "lessons"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

# The known TensorFlow C++ log lines (absl format: severity, date, time, thread, file:line]).
# Only these are removed from saved stderr outputs; any other stderr line is kept.
_ABSL = r"[IWEF]\d{4} [\d:.]+\s+\d+ "
TF_LOG_LINE = re.compile(
    "|".join(
        [
            r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
            _ABSL + r"port\.cc:\d+\] oneDNN custom operations are on\..*",
            _ABSL + r"cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine, GPU will not be used\.",
            _ABSL
            + r"cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized to use available CPU instructions.*",
            r"To enable the following instructions: .*, in other operations, rebuild TensorFlow with the appropriate "
            r"compiler flags\.",
            _ABSL
            + r"util\.cc:\d+\] oneDNN supports DT_[A-Z0-9]+ only on platforms with AVX-512\. Falling back to the default "
            r"Eigen-based implementation if present\.",
            _ABSL + r"cuda_platform\.cc:\d+\] failed call to cuInit: .*",
            _ABSL + r"dataset\.cc:\d+\] Input of GeneratorDatasetOp::Dataset will not be optimized because the dataset "
            r"does not implement the AsGraphDefInternal\(\) method needed to apply optimizations\.",
            _ABSL + r"generator_dataset_op\.cc:\d+\] Memory patch applied: M_TRIM_THRESHOLD=\d+ kb was set\.",
            _ABSL
            + r"local_rendezvous\.cc:\d+\] Local rendezvous is aborting with status: OUT_OF_RANGE: End of sequence",
        ]
    )
)


def cells_of(notebook: nbformat.NotebookNode) -> list[tuple[str, str, list[str]]]:
    """What a source decides about each cell: its type, its text and its tags (not outputs)."""
    return [(cell.cell_type, cell.source, list(cell.get("metadata", {}).get("tags", []))) for cell in notebook.cells]


def out_of_sync(sources: list[Path]) -> list[str]:
    """One line per lesson whose notebook does not match its source cell for cell (nothing is executed)."""
    problems = []
    for source in sources:
        target = LESSONS / f"{source.stem}.ipynb"
        if not target.exists():
            problems.append(f"{source.stem}: no notebook {target.relative_to(ROOT)}")
            continue
        expected, actual = cells_of(jupytext.read(source)), cells_of(nbformat.read(target, as_version=4))
        if len(expected) != len(actual):
            problems.append(f"{source.stem}: {len(expected)} cells in the source, {len(actual)} in the notebook")
            continue
        changed = [index for index, (want, got) in enumerate(zip(expected, actual)) if want != got]
        if changed:
            problems.append(f"{source.stem}: cells {changed} differ (type, text or tags)")
    return problems


def update_prose(source: Path) -> bool:
    """Copy the markdown of ``source`` into its notebook when nothing else differs; False if code differs.

    A prose-only edit changes no output, so the executed notebook keeps its outputs and only its
    markdown cells take the new text. Any difference in code, cell types, tags or cell count
    needs a real build (executing the lesson).
    """
    target = LESSONS / f"{source.stem}.ipynb"
    wanted, notebook = jupytext.read(source), nbformat.read(target, as_version=4)
    if len(wanted.cells) != len(notebook.cells):
        return False
    for want, have in zip(cells_of(wanted), cells_of(notebook)):
        if want[0] != have[0] or want[2] != have[2] or (want[0] == "code" and want[1] != have[1]):
            return False
    for want, cell in zip(wanted.cells, notebook.cells):
        if cell.cell_type == "markdown":
            cell.source = want.source
    nbformat.write(notebook, target)
    return True


def strip_tf_log_lines(text: str) -> str:
    """Remove the known TensorFlow C++ log lines (``TF_LOG_LINE``) from one stderr text; keep the rest."""
    return "".join(line for line in text.splitlines(keepends=True) if not TF_LOG_LINE.fullmatch(line.rstrip("\n")))


def clean(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop metadata noise and TensorFlow's C++ log lines; keep tags, outputs and execution counts.

    Consecutive chunks of one stream (stdout or stderr) become one output: with output capture a
    single ``print`` can arrive in two messages, which would otherwise differ from build to build.

    Execution counts stay because nbval treats a cell with outputs but no count as
    "unrun"; from a fresh top-to-bottom run they are simply 1, 2, 3, ... so they are
    deterministic and do not add noise to diffs.
    """
    notebook.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for index, cell in enumerate(notebook.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        cell.metadata = nbformat.from_dict({"tags": tags} if tags else {})
        cell.id = f"cell-{index:03d}"
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                output.text = strip_tf_log_lines(output.text)
                if not output.text:
                    continue
            previous = outputs[-1] if outputs else None
            if output.get("output_type") == "stream" and previous is not None and _same_stream(previous, output):
                previous.text += output.text  # one print may arrive in several chunks: keep one output per run
                continue
            outputs.append(output)
        cell.outputs = outputs
    return notebook


def _same_stream(a, b) -> bool:
    return a.get("output_type") == b.get("output_type") == "stream" and a.get("name") == b.get("name")


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
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(LESSONS)}},
        # Default kernel settings (output capture on), as a learner's JupyterLab: build time is
        # learner time. TF's C++ log lines are removed from the saved outputs by clean().
    )
    client.execute()  # shuts the kernel down, so its CPU time is counted below
    seconds = time.perf_counter() - started
    cpu_seconds = _children_cpu_seconds() - cpu_before
    slowest = slowest_cells(notebook)  # before clean() drops the timing metadata
    target = LESSONS / f"{source.stem}.ipynb"
    nbformat.write(clean(notebook), target)
    return target, seconds, cpu_seconds, slowest


def slowest_cells(notebook: nbformat.NotebookNode, count: int = 3) -> str:
    """The ``count`` slowest code cells as "[index] seconds", from nbclient's timing metadata."""
    timed = []
    for index, cell in enumerate(notebook.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            start, end = (
                datetime.fromisoformat(str(timing[key]).replace("Z", "+00:00"))
                for key in ("iopub.execute_input", "shell.execute_reply")
            )
            timed.append(((end - start).total_seconds(), index))
    return ", ".join(f"[{index}] {sec:.1f} s" for sec, index in sorted(timed, reverse=True)[:count])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="stems or prefixes (default: all)")
    parser.add_argument(
        "--check", action="store_true", help="execute nothing; exit 1 if a notebook does not match its source"
    )
    parser.add_argument(
        "--prose", action="store_true", help="only markdown changed: copy it into the notebooks, execute nothing"
    )
    args = parser.parse_args(argv)
    sources = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if args.lessons:
        sources = [s for s in sources if any(s.stem.startswith(p) for p in args.lessons)]
    if not sources:
        print("no lesson sources matched", file=sys.stderr)
        return 2
    if args.check:
        problems = out_of_sync(sources)
        for problem in problems:
            print(f"{problem}; rebuild with `python tools/build_notebooks.py {problem[:2]}`", file=sys.stderr)
        return 1 if problems else 0
    if args.prose:
        refused = [source.stem for source in sources if not update_prose(source)]
        for stem in refused:
            print(f"{stem}: code, tags or cells differ, not only prose: build it (execute)", file=sys.stderr)
        return 1 if refused else 0
    os.environ.setdefault("PYTHONHASHSEED", "0")
    for source in sources:
        target, seconds, cpu_seconds, slowest = build(source)
        size_kb = target.stat().st_size / 1024
        # On a busy machine wall time is inflated. Training keeps about one core busy (TensorFlow's
        # small ops barely use the second), so on an idle 2-core machine the wall time is close to
        # the kernel's CPU time (benchmarks/run_course.py, 2026-12-02: wall = 0.8-1.0 x kernel CPU).
        print(
            f"{target.relative_to(ROOT)}: wall {seconds:.1f} s, kernel CPU {cpu_seconds:.1f} s "
            f"(about as many seconds of wall time on an idle 2-core machine), {size_kb:.0f} KB; "
            f"slowest cells (wall): {slowest}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
