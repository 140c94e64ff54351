"""mmgen_lib.course.jupyterlab_settings: the environment's JupyterLab opens without the news pop-up."""

import json

import pytest

from mmgen_lib.course.__main__ import main
from mmgen_lib.course.jupyterlab_settings import QUIET, overrides_path, quiet_jupyterlab


def test_the_settings_are_written_where_jupyterlab_reads_them(tmp_path):
    path = quiet_jupyterlab(tmp_path)
    assert path == tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert json.loads(path.read_text()) == QUIET
    assert quiet_jupyterlab(tmp_path) == path and json.loads(path.read_text()) == QUIET  # idempotent


def test_other_settings_in_the_file_are_kept(tmp_path):
    path = overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    theme = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
    own = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "true", "doNotDisturbMode": True}}
    path.write_text(json.dumps({**theme, **own}))
    settings = json.loads(quiet_jupyterlab(tmp_path).read_text())
    assert settings["@jupyterlab/apputils-extension:themes"] == theme["@jupyterlab/apputils-extension:themes"]
    assert settings["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    }


@pytest.mark.parametrize(("text", "message"), [("not json", "not valid JSON"), ("[1, 2]", "must hold a JSON object")])
def test_a_broken_file_is_refused_and_left_alone(tmp_path, text, message):
    path = overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        quiet_jupyterlab(tmp_path)
    assert path.read_text() == text


def test_the_command_line_writes_into_this_environment(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("sys.prefix", str(tmp_path))
    assert main(["jupyterlab-settings"]) == 0
    assert str(overrides_path(tmp_path)) in capsys.readouterr().out
    assert json.loads(overrides_path(tmp_path).read_text()) == QUIET
