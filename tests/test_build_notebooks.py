"""tools/build_notebooks.py: the saved notebooks lose exactly TensorFlow's known C++ log lines."""

import importlib.util
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)

# Verbatim from a kernel with output capture on (TensorFlow 2.21, 2-core CPU machine).
TF_STARTUP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796217216.100414    8687 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. "
    "To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n"
    "I0000 00:00:1796217216.107381    8687 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
    "GPU will not be used.\n"
    "I0000 00:00:1796217216.366147    8687 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.\n"
    "To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 AVX512_FP16 AVX_VNNI FMA, in other "
    "operations, rebuild TensorFlow with the appropriate compiler flags.\n"
    "E0000 00:00:1796217247.179535    8687 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    "Failed call to cuInit: UNKNOWN ERROR (303)\n"
)
DURING_TRAINING = (
    "E0000 00:00:1796217794.844495   15291 util.cc:131] oneDNN supports DT_BOOL only on platforms with AVX-512. "
    "Falling back to the default Eigen-based implementation if present.\n"
    "W0000 00:00:1796218045.306632   17761 dataset.cc:997] Input of GeneratorDatasetOp::Dataset will not be "
    "optimized because the dataset does not implement the AsGraphDefInternal() method needed to apply "
    "optimizations.\n"
    "I0000 00:00:1796266934.435999    9842 generator_dataset_op.cc:213] Memory patch applied: "
    "M_TRIM_THRESHOLD=128 kb was set.\n"
    "E0000 00:00:1796267344.396238   15299 util.cc:131] oneDNN supports DT_INT32 only on platforms with AVX-512. "
    "Falling back to the default Eigen-based implementation if present.\n"
)
END_OF_SEQUENCE = (
    "I0000 00:00:1796217300.123456   10208 local_rendezvous.cc:407] Local rendezvous is aborting "
    "with status: OUT_OF_RANGE: End of sequence\n"
)


def test_known_tf_lines_are_removed_and_nothing_else():
    kept = (
        "/x/site-packages/keras/src/layers/layer.py:421: UserWarning: `build()` was called on layer\n"
        "E0000 00:00:1796217300.1    10208 some_op.cc:12] a TensorFlow error nobody has seen before\n"
        "Traceback-like text the learner must see\n"
    )
    assert build_notebooks.strip_tf_log_lines(TF_STARTUP + DURING_TRAINING + END_OF_SEQUENCE) == ""
    assert build_notebooks.strip_tf_log_lines(TF_STARTUP + kept + DURING_TRAINING + END_OF_SEQUENCE) == kept
    assert build_notebooks.strip_tf_log_lines("no newline at the end") == "no newline at the end"


def test_clean_drops_emptied_stderr_streams_and_keeps_other_outputs():
    cell = nbformat.v4.new_code_cell(
        "import keras",
        execution_count=1,
        outputs=[
            nbformat.v4.new_output("stream", name="stderr", text=TF_STARTUP),
            nbformat.v4.new_output("stream", name="stdout", text=END_OF_SEQUENCE),  # stdout is never touched
            nbformat.v4.new_output("stream", name="stderr", text=END_OF_SEQUENCE + "UserWarning: keep me\n"),
        ],
    )
    notebook = build_notebooks.clean(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# x"), cell]))
    outputs = notebook.cells[1].outputs
    assert [(o.name, o.text) for o in outputs] == [("stdout", END_OF_SEQUENCE), ("stderr", "UserWarning: keep me\n")]
    assert notebook.cells[1].execution_count == 1 and notebook.cells[1].id == "cell-001"


def test_clean_joins_the_chunks_of_one_stream():
    cell = nbformat.v4.new_code_cell(
        "print('a', 1)",
        execution_count=1,
        outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="plain mean changes by"),
            nbformat.v4.new_output("stream", name="stdout", text=" 0.1863\n"),
            nbformat.v4.new_output("stream", name="stderr", text="UserWarning: keep me\n"),
            nbformat.v4.new_output("stream", name="stdout", text="after the warning\n"),
        ],
    )
    notebook = build_notebooks.clean(nbformat.v4.new_notebook(cells=[cell]))
    assert [(o.name, o.text) for o in notebook.cells[0].outputs] == [
        ("stdout", "plain mean changes by 0.1863\n"),
        ("stderr", "UserWarning: keep me\n"),
        ("stdout", "after the warning\n"),
    ]


def test_prose_only_updates_copy_markdown_and_refuse_code_changes(tmp_path, monkeypatch):
    import shutil

    lessons, sources = tmp_path / "lessons", tmp_path / "lessons" / "src"
    sources.mkdir(parents=True)
    source = next((ROOT / "lessons" / "src").glob("00_*.py"))
    shutil.copy(source, sources / source.name)
    shutil.copy(ROOT / "lessons" / f"{source.stem}.ipynb", lessons / f"{source.stem}.ipynb")
    monkeypatch.setattr(build_notebooks, "LESSONS", lessons)
    before = nbformat.read(lessons / f"{source.stem}.ipynb", as_version=4)
    text = source.read_text()
    (sources / source.name).write_text(text.replace("# %% [markdown]\n# ", "# %% [markdown]\n# Edited: ", 1))
    assert build_notebooks.update_prose(sources / source.name)
    after = nbformat.read(lessons / f"{source.stem}.ipynb", as_version=4)
    assert after.cells[0].source.startswith("Edited: ")
    assert [c.get("outputs") for c in after.cells] == [c.get("outputs") for c in before.cells]
    (sources / source.name).write_text(text.replace("import", "import os  # changed code\nimport", 1))
    assert not build_notebooks.update_prose(sources / source.name)
