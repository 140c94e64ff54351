"""Translated lessons: status, translator helpers and the build of ``lessons/<lang>/``.

    python tools/translations.py status [NN ...]        # missing / stale / orphaned blocks per lesson
    python tools/translations.py skeleton NN            # start a translation: the English text under each marker
    python tools/translations.py show NN md-003 ...     # the current English of cells (to update stale blocks)
    python tools/translations.py stamp NN md-003 ...    # after updating a block: record the English it now translates
    python tools/translations.py realign NN             # renumber blocks after English cells were added or removed
    python tools/translations.py build [NN ...]         # lessons/<lang>/NN_topic.ipynb from the executed English ones

The translation files are ``lessons/src/<lang>/NN_topic.md`` (see ``mmgen_lib.course.translations``).
``build`` executes nothing: a translated notebook is the executed English notebook, with the same
code and outputs, whose markdown cells are the translations; it refuses a translation that is
not up to date. Build the English notebook first (``tools/build_notebooks.py``), then this.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mmgen_lib.course.translations import (  # noqa: E402
    english_hash,
    format_translation,
    markdown_cells,
    parse_translation,
    realign,
    translated_notebook,
    translation_path,
    translation_status,
)

LESSONS = ROOT / "lessons"


def lessons(prefixes) -> list[Path]:
    notebooks = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
    chosen = [nb for nb in notebooks if not prefixes or any(nb.stem.startswith(p) for p in prefixes)]
    if not chosen:
        raise SystemExit(f"no lesson matches {' '.join(prefixes)}")
    return chosen


def one_lesson(prefix: str) -> Path:
    found = lessons([prefix])
    if len(found) != 1:
        raise SystemExit(f"{prefix!r} matches {len(found)} lessons: give the two-digit number")
    return found[0]


def read_blocks(notebook: Path, language: str) -> dict:
    path = translation_path(notebook, language)
    return parse_translation(path.read_text(encoding="utf-8"), str(path)) if path.exists() else {}


def write_blocks(notebook: Path, language: str, blocks: dict) -> Path:
    path = translation_path(notebook, language)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_translation(blocks), encoding="utf-8")
    return path


def built_notebook(notebook: Path, language: str):
    """The translated notebook of one English lesson notebook (raises if the translation is not up to date)."""
    english = nbformat.read(notebook, as_version=4)
    return translated_notebook(english, read_blocks(notebook, language), notebook.stem)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("status", "skeleton", "show", "stamp", "realign", "build"))
    parser.add_argument("args", nargs="*", help="lesson numbers (and cell ids for show / stamp)")
    parser.add_argument("--language", default="zh")
    parser.add_argument("--force", action="store_true", help="skeleton: overwrite an existing translation")
    options = parser.parse_args(argv)
    language, command = options.language, options.command

    if command in ("status", "build"):
        failed = 0
        for notebook in lessons(options.args):
            english = nbformat.read(notebook, as_version=4)
            status = translation_status(english, read_blocks(notebook, language), notebook.stem)
            if command == "status" or not status.ok:
                print(status, file=sys.stdout if status.ok else sys.stderr)
            failed += not status.ok
            if command == "build" and status.ok:
                target = LESSONS / language / notebook.name
                target.parent.mkdir(exist_ok=True)
                nbformat.write(built_notebook(notebook, language), target)
                print(f"wrote {target.relative_to(ROOT)}")
        return 1 if failed else 0

    if not options.args:
        parser.error(f"{command} needs a lesson number")
    notebook, cell_ids = one_lesson(options.args[0]), options.args[1:]
    english = markdown_cells(nbformat.read(notebook, as_version=4))
    unknown = [cell_id for cell_id in cell_ids if cell_id not in english]
    if unknown:
        parser.error(
            f"{notebook.stem} has no markdown cell {', '.join(unknown)} (it has md-000 to md-{len(english) - 1:03d})"
        )
    blocks = read_blocks(notebook, language)
    if command == "skeleton":
        if blocks and not options.force:
            parser.error(f"{translation_path(notebook, language)} exists; --force overwrites it")
        path = write_blocks(notebook, language, {cid: (english_hash(text), text) for cid, text in english.items()})
        print(f"wrote {path.relative_to(ROOT)}: {len(english)} blocks with the English text, to be translated")
    elif command == "show":
        for cell_id in cell_ids or english:
            print(f"<!-- {cell_id} en:{english_hash(english[cell_id])} -->\n{english[cell_id]}\n")
    elif command == "stamp":
        if not cell_ids:
            parser.error("stamp needs the cell ids whose translation you updated")
        missing = [cell_id for cell_id in cell_ids if cell_id not in blocks]
        if missing:
            parser.error(f"no block for {', '.join(missing)} in {translation_path(notebook, language)}")
        for cell_id in cell_ids:
            blocks[cell_id] = (english_hash(english[cell_id]), blocks[cell_id][1])
        write_blocks(notebook, language, blocks)
        print(f"stamped {', '.join(cell_ids)}")
    elif command == "realign":
        write_blocks(notebook, language, realign(nbformat.read(notebook, as_version=4), blocks))
        print(translation_status(nbformat.read(notebook, as_version=4), read_blocks(notebook, language), notebook.stem))
    return 0


if __name__ == "__main__":
    sys.exit(main())
