"""The Chinese edition: every markdown cell translated and up to date, the notebooks built from them.

``lessons/src/zh/NN_topic.md`` holds the translations (``mmgen_lib.course.translations``);
``lessons/zh/NN_topic.ipynb`` is the executed English notebook with its markdown replaced
(``python tools/translations.py build``). The Chinese notebooks are not executed a second time
(their code and outputs are the English ones, which this test compares), except lesson 00 once,
as a smoke test that a notebook in ``lessons/zh/`` runs from there.
"""

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mmgen_lib.course.translations import (
    english_hash,
    format_translation,
    markdown_cells,
    numbers,
    parse_translation,
    realign,
    translated_notebook,
    translation_path,
    translation_status,
)

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
ENGLISH = sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))
_spec = importlib.util.spec_from_file_location("translations_tool", ROOT / "tools" / "translations.py")
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


def notebook_of(*markdown):
    cells = [nbformat.v4.new_code_cell("x = 1")]
    cells += [nbformat.v4.new_markdown_cell(text) for text in markdown]
    return nbformat.v4.new_notebook(cells=cells)


# ----------------------------------------------------------------------------- the file format


def test_blocks_round_trip_and_keep_their_text():
    blocks = {"md-001": ("b" * 12, "## 2. 第二节\n\n正文。"), "md-000": ("a" * 12, "# 00 · 欢迎")}
    text = format_translation(blocks)
    assert text.index("md-000") < text.index("md-001")
    assert parse_translation(text) == blocks


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stray text\n<!-- md-000 en:aaaaaaaaaaaa -->\n中文", "text before the first"),
        ("<!-- md-000 en:aaaaaaaaaaaa -->\n一\n<!-- md-000 en:aaaaaaaaaaaa -->\n二", "md-000 appears twice"),
        ("no marker at all", "text before the first"),
    ],
)
def test_malformed_files_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse_translation(text, "x.md")


def test_translation_path_sits_beside_the_sources():
    assert translation_path(LESSONS / "05_fusion.ipynb") == LESSONS / "src" / "zh" / "05_fusion.md"
    assert translation_path(LESSONS / "src" / "05_fusion.py") == LESSONS / "src" / "zh" / "05_fusion.md"
    with pytest.raises(ValueError, match="language must be one of"):
        translation_path(LESSONS / "05_fusion.ipynb", "fr")


# ----------------------------------------------------------------------------- status


def test_status_finds_missing_stale_orphaned_untranslated_and_other_numbers():
    english = notebook_of("# 05 · Fusion", "Train for 5 epochs.", "Three heads.", "More text here.", "Seen 2 times.")
    cells = markdown_cells(english)
    blocks = {
        "md-000": (english_hash(cells["md-000"]), "# 05 · 融合"),  # fine
        "md-001": ("0" * 12, "训练 5 轮。"),  # stale: the English changed since
        "md-002": (english_hash(cells["md-002"]), "Three heads."),  # left in English
        "md-004": (english_hash(cells["md-004"]), "出现 3 次。"),  # wrong number
        "md-009": ("1" * 12, "没有这个单元格"),  # orphan
    }  # md-003: missing
    status = translation_status(english, blocks, "05_fusion")
    assert (status.missing, status.stale, status.untranslated, status.other_numbers, status.orphans) == (
        ["md-003"],
        ["md-001"],
        ["md-002"],
        ["md-004"],
        ["md-009"],
    )
    assert not status.ok and "stale (English changed) md-001" in str(status)
    with pytest.raises(ValueError, match="translation not up to date: 05_fusion: missing md-003"):
        translated_notebook(english, blocks, "05_fusion")


def test_numbers_are_compared_as_written():
    assert numbers("loss 0.41 after 5 epochs, 5 heads") == ["0.41", "5", "5"]
    assert numbers("5 个头，训练 5 轮，损失 0.41") == numbers("loss 0.41 after 5 epochs, 5 heads")


def test_a_translated_notebook_keeps_code_and_outputs_and_replaces_markdown():
    english = notebook_of("# Title", "Some words here.")
    english.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    cells = markdown_cells(english)
    blocks = {key: (english_hash(text), f"中文 {key[-1]}") for key, text in cells.items()}
    blocks = {"md-000": (blocks["md-000"][0], "# 标题"), "md-001": (blocks["md-001"][0], "一些文字。")}
    translated = translated_notebook(english, blocks)
    assert [c.source for c in translated.cells] == ["x = 1", "# 标题", "一些文字。"]
    assert translated.cells[0].outputs == english.cells[0].outputs
    assert english.cells[1].source == "# Title"  # the English notebook is not modified


def test_realign_moves_blocks_after_an_english_cell_was_inserted():
    before = notebook_of("First words.", "Second words.")
    old = {key: (english_hash(text), f"译文 {text}") for key, text in markdown_cells(before).items()}
    after = notebook_of("First words.", "A new cell.", "Second words.")
    moved = realign(after, old)
    assert moved["md-000"] == old["md-000"] and moved["md-002"] == old["md-001"]
    status = translation_status(after, moved)
    assert status.missing == ["md-001"] and not status.stale and not status.orphans


# ----------------------------------------------------------------------------- the Chinese edition


@pytest.mark.parametrize("english", ENGLISH, ids=[path.stem for path in ENGLISH])
def test_every_markdown_cell_is_translated_and_up_to_date(english):
    path = translation_path(english)
    assert path.exists(), (
        f"no translation {path.relative_to(ROOT)}: python tools/translations.py skeleton {english.stem[:2]}"
    )
    status = translation_status(
        nbformat.read(english, as_version=4), parse_translation(path.read_text("utf-8")), english.stem
    )
    assert status.ok, f"{status}; see python tools/translations.py show {english.stem[:2]} ..."


@pytest.mark.parametrize("english", ENGLISH, ids=[path.stem for path in ENGLISH])
def test_the_chinese_notebook_is_built_from_the_english_one(english):
    chinese = LESSONS / "zh" / english.name
    assert chinese.exists(), (
        f"missing {chinese.relative_to(ROOT)}: python tools/translations.py build {english.stem[:2]}"
    )
    saved = nbformat.read(chinese, as_version=4)
    original = nbformat.read(english, as_version=4)
    code = [(c.source, c.get("outputs")) for c in original.cells if c.cell_type == "code"]
    assert [(c.source, c.get("outputs")) for c in saved.cells if c.cell_type == "code"] == code, (
        f"{chinese.name}: code or outputs differ from the English notebook; rebuild with tools/translations.py build"
    )
    assert saved == tool.built_notebook(english, "zh"), f"{chinese.name} is out of date: tools/translations.py build"


def test_every_chinese_notebook_has_an_english_one():
    assert {p.name for p in (LESSONS / "zh").glob("*.ipynb")} == {p.name for p in ENGLISH}


def test_a_chinese_notebook_runs_from_its_folder():
    notebook = nbformat.read(LESSONS / "zh" / "00_welcome.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(LESSONS / "zh")}}
    ).execute()
    assert all("ename" not in output for cell in notebook.cells for output in cell.get("outputs", []))


def test_the_chinese_student_edition_is_built_from_the_chinese_notebooks(tmp_path):
    from mmgen_lib.course import build_student_edition

    written = build_student_edition(tmp_path / "student_zh", LESSONS / "zh")
    assert [path.name for path in written] == [path.name for path in ENGLISH]
    student = nbformat.read(written[1], as_version=4)
    assert "raise NotImplementedError" in "".join(c.source for c in student.cells if c.cell_type == "code")
    assert any("\u4e00" <= ch <= "\u9fff" for c in student.cells if c.cell_type == "markdown" for ch in c.source)
