"""Every lesson source (lessons/src/NN_topic.py) matches its executed notebook, cell for cell.

The notebooks are generated from the sources by ``tools/build_notebooks.py``; editing one
without rebuilding (or editing a notebook by hand) makes them disagree. This test compares
cell types, code and markdown text and cell tags; outputs are the build's business. The same
comparison is the pre-commit hook ``python tools/build_notebooks.py --check``.
"""

import importlib.util
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
SOURCES = sorted((LESSONS / "src").glob("[0-9][0-9]_*.py"))
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)
cells_of = build_notebooks.cells_of


def test_every_source_has_a_notebook_and_back():
    notebooks = {path.stem for path in LESSONS.glob("[0-9][0-9]_*.ipynb")}
    assert SOURCES, "no lesson sources found"
    assert {path.stem for path in SOURCES} == notebooks


@pytest.mark.parametrize("source", SOURCES, ids=[path.stem for path in SOURCES])
def test_source_matches_notebook(source):
    expected = cells_of(jupytext.read(source))
    actual = cells_of(nbformat.read(LESSONS / f"{source.stem}.ipynb", as_version=4))
    assert len(actual) == len(expected), (
        f"{source.stem}: {len(expected)} cells in the source, {len(actual)} in the notebook; "
        f"rebuild with `python tools/build_notebooks.py {source.stem[:2]}`"
    )
    for index, (want, got) in enumerate(zip(expected, actual)):
        assert got == want, (
            f"{source.stem}: cell {index} differs between lessons/src and the notebook "
            f"(type, text or tags); rebuild with `python tools/build_notebooks.py {source.stem[:2]}`"
        )


def test_a_changed_source_is_detected(tmp_path):
    source = SOURCES[0]
    changed = tmp_path / source.name
    changed.write_text(source.read_text().replace("# %%", "# %%\n# an edit nobody rebuilt", 1))
    notebook = nbformat.read(LESSONS / f"{source.stem}.ipynb", as_version=4)
    assert cells_of(jupytext.read(changed)) != cells_of(notebook)
    problems = build_notebooks.out_of_sync([changed])
    assert len(problems) == 1 and problems[0].startswith(f"{source.stem}: ")


def test_check_mode_exits_nonzero_and_names_the_lesson(tmp_path, capsys, monkeypatch):
    source = SOURCES[0]
    changed = tmp_path / source.name
    changed.write_text(source.read_text().replace("# %%", "# %%\n# an edit nobody rebuilt", 1))
    monkeypatch.setattr(build_notebooks, "SOURCES", tmp_path)
    assert build_notebooks.main(["--check"]) == 1
    assert f"{source.stem}: cells" in capsys.readouterr().err
