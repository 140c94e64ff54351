"""Lesson 13's studio in a real browser: JupyterLab on localhost, driven in headless Chromium by Playwright.

The other studio tests call the widgets' callbacks directly; this one checks what a learner sees.
It starts a private JupyterLab server on a free port of 127.0.0.1 (its own token, settings,
workspaces, runtime and config directories, all in a pytest temporary directory, so the
learner's own Jupyter configuration is neither read nor changed), opens a *copy* of
lessons/13_studio.ipynb (with its outputs cleared), runs all cells from the Run menu, checks
that the studio's widgets render (tabs, sliders, drop-downs, images, the audio player),
drives them as a learner would (a slider, a drop-down, the second tab) and checks that the
images and texts the kernel sends back change. It saves screenshots in the test's tmp_path
and prints their paths. The server and its kernel are stopped in the fixture's teardown,
whatever happens.

It uses the system's Chromium (never a browser download): /usr/bin/chromium, or any of
``chromium``, ``chromium-browser``, ``google-chrome`` on PATH, or the path in MMGEN_CHROMIUM.
Without Playwright or Chromium the test is skipped with the reason; with MMGEN_REQUIRE_BROWSER=1
(set by .ci/run) it fails instead. Run it alone with::

    pytest -n 0 tests/test_browser_studio.py -v
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest

from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES, load_split, parse_caption
from mmgen_lib.widgets import compose_caption

pytestmark = pytest.mark.browser

LESSON = Path(__file__).resolve().parents[1] / "lessons" / "13_studio.ipynb"
REQUIRE_BROWSER = os.environ.get("MMGEN_REQUIRE_BROWSER", "") not in ("", "0")
SERVER_START_TIMEOUT_S = 120
RUN_ALL_TIMEOUT_S = 300  # the lesson takes about 60 s alone; other tests may share the CPU
WIDGET_TIMEOUT_MS = 60_000  # one callback round trip (browser -> kernel -> browser)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# JupyterLab settings for this server only (its own user-settings directory):
LAB_SETTINGS = {
    # No "Would you like to get notified about official Jupyter news?" pop-up, no update check.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Every cell attached to the page, so that every prompt and output can be inspected.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    # The copy is never written back while the test runs.
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}


def _unavailable(reason: str):
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (MMGEN_REQUIRE_BROWSER is set: the browser test must run)")
    pytest.skip(reason)


def _find_chromium() -> str | None:
    if os.environ.get("MMGEN_CHROMIUM"):
        return os.environ["MMGEN_CHROMIUM"]
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture(scope="module")
def chromium_executable():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable('Playwright is not installed: pip install -e ".[dev]"')
    path = _find_chromium()
    if path is None:
        _unavailable(
            "no Chromium found: install the system's (Debian/Ubuntu: apt-get install chromium) "
            "or set MMGEN_CHROMIUM to a Chromium or Chrome executable"
        )
    if not os.access(path, os.X_OK):
        _unavailable(f"MMGEN_CHROMIUM={path} is not an executable file")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, token: str, method: str = "GET", timeout: float = 5.0) -> int:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status


def _copy_lesson(directory: Path) -> Path:
    """The lesson without outputs, so that whatever the page shows comes from this run."""
    notebook = nbformat.read(LESSON, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    directory.mkdir(parents=True)
    path = directory / LESSON.name
    nbformat.write(notebook, path)
    return path


def _write_lab_settings(directory: Path) -> None:
    for name, values in LAB_SETTINGS.items():
        path = directory / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _stop_server(process: subprocess.Popen, base_url: str, token: str) -> None:
    """Shut the server and its kernels down politely, then kill whatever is left of them."""
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)  # the kernel(s)
    except psutil.NoSuchProcess:
        descendants = []
    try:
        _request(f"{base_url}/api/shutdown", token, method="POST", timeout=10)
    except (OSError, urllib.error.URLError):
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    for child in descendants:
        try:
            child.wait(timeout=10)
        except psutil.TimeoutExpired:
            child.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture
def jupyter_lab(chromium_executable, tmp_path):
    """A private JupyterLab server serving a copy of lesson 13; yields (base URL, token, notebook name).

    It asks for the browser first, so that a test without one is skipped before a server starts.
    """
    notebook = _copy_lesson(tmp_path / "notebooks")
    _write_lab_settings(tmp_path / "lab-user-settings")
    port, token = _free_port(), secrets.token_hex(24)
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        # Private Jupyter directories: no learner configuration, kernels or extensions from ~.
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={notebook.parent}",
        f"--LabApp.user_settings_dir={tmp_path / 'lab-user-settings'}",
        f"--LabApp.workspaces_dir={tmp_path / 'lab-workspaces'}",  # nothing to restore
        "--LabApp.news_url=None",  # the server fetches no news feed
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        # Safety nets should the teardown never run (the test process killed): the kernel is
        # culled and the server stops by itself after 15 idle minutes.
        "--MappingKernelManager.cull_idle_timeout=900",
        "--MappingKernelManager.cull_interval=60",
        "--MappingKernelManager.cull_connected=True",
        "--ServerApp.shutdown_no_activity_timeout=900",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI containers run as root
    log_path = tmp_path / "jupyterlab.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=notebook.parent, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if _request(f"{base_url}/api/status", token, timeout=2) == 200:
                    break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"JupyterLab did not answer within {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield base_url, token, notebook.name
    finally:
        _stop_server(process, base_url, token)
        print(f"JupyterLab log: {log_path}")


@pytest.fixture
def page(chromium_executable, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(WIDGET_TIMEOUT_MS)
            yield context.new_page()
        finally:
            browser.close()


# JavaScript run in the page: "running" until every code cell has an execution count,
# the text of the first error output if a cell failed, "done" when all cells have run.
RUN_STATE_JS = """() => {
    const notebook = document.querySelector('.jp-NotebookPanel');
    const error = notebook.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]');
    if (error) return 'error: ' + error.innerText.slice(0, 3000);
    const prompts = [...notebook.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
    return prompts.length > 0 && prompts.every(text => /\\[\\d+\\]/.test(text)) ? 'done' : false;
}"""

# SHA-256 of the bytes an <img> shows (the ipywidgets Image widget shows a blob: URL of the PNG
# the kernel sent), so that "the image changed" means new pixels, not only a new URL.
IMAGE_DIGEST_JS = """async image => {
    const bytes = await (await fetch(image.src)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    return [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('');
}"""


def _image_digest(image) -> str:
    image.page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=image.element_handle())
    return image.evaluate(IMAGE_DIGEST_JS)


def _wait_for_new_image(image, old_src: str, old_digest: str) -> str:
    from playwright.sync_api import expect

    expect(image).not_to_have_attribute("src", old_src)
    digest = _image_digest(image)
    assert digest != old_digest, "the image widget got a new URL but shows the same picture"
    return digest


def _slider(panel, description: str):
    """The slider whose label is ``description`` (ipywidgets 8: .widget-slider > .widget-label)."""
    return panel.locator(".widget-slider").filter(
        has=panel.page.locator(".widget-label").get_by_text(description, exact=True)
    )


def _move_slider_right(slider, expected_value: str) -> None:
    """One step to the right with the keyboard, as a learner would; the readout then shows the new value."""
    from playwright.sync_api import expect

    slider.locator(".noUi-handle").focus()
    slider.locator(".noUi-handle").press("ArrowRight")
    expect(slider.locator(".widget-readout")).to_have_text(expected_value)


def test_studio_renders_and_responds_in_jupyterlab(jupyter_lab, page, tmp_path):
    from playwright.sync_api import expect

    base_url, token, notebook_name = jupyter_lab
    page_errors = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    try:
        page.goto(f"{base_url}/lab/tree/{notebook_name}?token={token}")
        expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=SERVER_START_TIMEOUT_S * 1000)
        # The kernel has started and is connected: the status bar reads "Python 3 (ipykernel) | Idle".
        # (Run All before that would clear the cells instead of running them.)
        kernel_idle = page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\| Idle$"))
        expect(kernel_idle).to_be_visible(timeout=SERVER_START_TIMEOUT_S * 1000)
        expect(page.get_by_text("Would you like to get notified about official Jupyter news?")).to_have_count(0)

        # Run -> Run All Cells, from the menu bar.
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator(".lm-Menu").get_by_role("menuitem", name="Run All Cells", exact=True).click()
        started = time.monotonic()
        expect(page.locator(".jp-CodeCell .jp-InputArea-prompt").first).to_have_text(re.compile(r"\[(\*|\d+)\]"))
        state = page.wait_for_function(RUN_STATE_JS, timeout=RUN_ALL_TIMEOUT_S * 1000, polling=1000).json_value()
        print(f"lesson 13 ran in the browser in {time.monotonic() - started:.0f} s")
        assert state == "done", f"a cell of lesson 13 failed in JupyterLab:\n{state}"

        # The studio: two tabs, the first showing caption -> image.
        studio = page.locator(".jp-OutputArea-output .widget-tab")
        expect(studio).to_have_count(1)
        studio.scroll_into_view_if_needed()
        tabs = studio.get_by_role("tab")
        expect(tabs).to_have_text(["caption -> image", "image + sound -> caption"])
        expect(studio.locator(".widget-slider")).to_have_count(5)  # seed; image, sound, temperature, beam width
        expect(studio.locator(".widget-dropdown")).to_have_count(5)  # the five attributes
        expect(studio.locator("img.widget-image")).to_have_count(2)
        expect(studio.locator("audio")).to_have_count(1)
        panels = studio.locator(".widget-tab-contents > .widget-vbox")
        expect(panels).to_have_count(2)
        caption_to_image, image_to_caption = panels.nth(0), panels.nth(1)
        expect(caption_to_image).to_be_visible()
        expect(image_to_caption).to_be_hidden()

        text = caption_to_image.locator(".widget-text input")
        status = caption_to_image.locator(".widget-html-content")
        images = caption_to_image.locator("img.widget-image")
        expect(text).to_have_value("a large red metal circle at the top")
        expect(status).to_have_text("a large red metal circle at the top")
        expect(images).to_be_visible()
        src, digest = images.get_attribute("src"), _image_digest(images)

        # The seed slider: the row of four images is drawn again with other shifts.
        _move_slider_right(_slider(caption_to_image, "seed"), "1")
        digest = _wait_for_new_image(images, src, digest)

        # The drop-downs start from the caption shown; changing one composes a caption that keeps the other
        # four attributes of the caption, and draws it.
        shown = parse_caption("a large red metal circle at the top")
        color_picker = caption_to_image.locator(".widget-dropdown").filter(has_text="color").locator("select")
        expect(color_picker.locator("option:checked")).to_have_text(shown["color"])
        src = images.get_attribute("src")
        shape = next(value for value in ATTRIBUTES["shape"] if value != shown["shape"])
        caption_to_image.locator(".widget-dropdown").filter(has_text="shape").locator("select").select_option(shape)
        composed = compose_caption(**{**shown, "shape": shape})
        expect(text).to_have_value(composed)
        expect(status).to_have_text(composed)
        _wait_for_new_image(images, src, digest)
        expect(kernel_idle).to_be_visible()
        screenshot_1 = tmp_path / "studio_caption_to_image.png"
        page.screenshot(path=screenshot_1)

        # The second tab: pick another image, read the caption written for it. Test images 0 and 1
        # differ in color and position, so their captions (with the same sound) differ.
        labels = load_split("test").labels[:2]
        assert labels[0, ATTRIBUTE_NAMES.index("color")] != labels[1, ATTRIBUTE_NAMES.index("color")]
        tabs.nth(1).click()
        expect(image_to_caption).to_be_visible()
        expect(caption_to_image).to_be_hidden()
        picture = image_to_caption.locator("img.widget-image")
        caption = image_to_caption.locator(".widget-html-content")
        expect(caption).to_contain_text("caption:")
        first_caption = caption.inner_text()
        src, digest = picture.get_attribute("src"), _image_digest(picture)
        _move_slider_right(_slider(image_to_caption, "image"), "1")
        _wait_for_new_image(picture, src, digest)  # the kernel draws the image first, then writes the caption
        expect(caption).not_to_have_text(first_caption)
        expect(caption).to_contain_text("caption:")
        expect(caption.locator("span")).to_have_count(0)  # no error message (shown in a red <span>)
        expect(kernel_idle).to_be_visible()
        print(f"captions: image 0 -> {first_caption!r}; image 1 -> {caption.inner_text()!r}")
        screenshot_2 = tmp_path / "studio_image_to_caption.png"
        page.screenshot(path=screenshot_2)
        print(f"screenshots: {screenshot_1} {screenshot_2}")
        assert not page_errors, f"uncaught JavaScript errors in the page: {page_errors}"
    except BaseException:
        failure = tmp_path / "failure.png"
        try:
            page.screenshot(path=failure)
            print(f"screenshot of the failure: {failure}")
        except Exception as error:  # the page may be gone: keep the test's own error
            print(f"no screenshot of the failure: {error}")
        raise
