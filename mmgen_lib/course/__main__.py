"""The command line of ``mmgen_lib.course`` (see the package docstring for the commands)."""

from __future__ import annotations

import argparse
import sys

import mmgen_lib.course as course
from mmgen_lib.course.audit import audit
from mmgen_lib.course.grading import grade
from mmgen_lib.course.html_site import build_site
from mmgen_lib.course.jupyterlab_settings import quiet_jupyterlab
from mmgen_lib.course.latex_svg import MathStats
from mmgen_lib.course.nbgrader_export import FORMATS, export_nbgrader
from mmgen_lib.course.student import LESSONS, build_student_edition


def main(argv=None) -> int:
    """Run one command (``student``, ``site``, ``audit``, ``grade``, ``export``, ``jupyterlab-settings``); return the
    exit status."""
    parser = argparse.ArgumentParser(prog="python -m mmgen_lib.course", description=course.__doc__.splitlines()[0])
    parser.add_argument("command", choices=("student", "site", "audit", "grade", "export", "jupyterlab-settings"))
    parser.add_argument("notebooks", nargs="*", help="grade: the learners' notebooks; export: the output folder")
    parser.add_argument("--out", help="output folder (student, site)")
    parser.add_argument("--lessons", default=str(LESSONS), help="lessons folder (default: %(default)s)")
    parser.add_argument("--saved", action="store_true", help="grade: read the saved outputs, do not re-run")
    parser.add_argument(
        "--student-only",
        action="store_true",
        help="site: only the student edition, no solutions and no instructor guide",
    )
    parser.add_argument("--format", choices=FORMATS, default="nbgrader", help="export: the format (%(default)s)")
    args = parser.parse_intermixed_args(argv)
    if args.command == "jupyterlab-settings":
        print(f"JupyterLab settings (no news pop-up, no update check): {quiet_jupyterlab()}")
        return 0
    if args.command == "audit":
        print(audit(args.lessons))
        return 0
    if args.command == "grade":
        print("| notebook | exercise | result | message |\n| --- | --- | --- | --- |")
        for notebook in args.notebooks:
            for row in grade(notebook, execute=not args.saved, lessons_dir=args.lessons):
                result = "passed" if row["passed"] else "not yet"
                print(f"| {notebook} | {row['exercise']} | {result} | {row['message'].replace('|', '/')} |")
        return 0
    if args.command == "export":
        if len(args.notebooks) > 1 or (args.notebooks and args.out):
            parser.error("export takes one output folder")
        out = args.out or (args.notebooks[0] if args.notebooks else None)
        if not out:
            parser.error("export needs an output folder: export --format nbgrader OUT")
        written = export_nbgrader(out, args.lessons)
        print(
            f"nbgrader course: {len(written)} assignments in {out}/source "
            f"(run nbgrader from {out}: nbgrader generate_assignment {written[0].stem if written else 'NN_topic'})"
        )
        return 0
    if not args.out:
        parser.error(f"{args.command} needs --out DIR")
    if args.command == "student":
        written = build_student_edition(args.out, args.lessons)
        print(f"student edition: {len(written)} notebooks in {args.out}")
    else:
        stats = MathStats()
        index = build_site(args.out, args.lessons, student_only=args.student_only, stats=stats)
        print(f"site: {index} (open it in a browser; no network needed)")
        raw = sorted(set(stats.raw))
        print(
            f"equations: {stats.drawn} drawn as SVG, {len(stats.raw)} shown as LaTeX source"
            + "".join(f"\n  {tex}" for tex in raw)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
