"""Screenshot of a progress bar in a live notebook run: docs/screenshots/notebook_progress.png.

A notebook that loads the saved tiny fit (``tests/fixtures/tiny_fit``, a real NUTS fit) and
runs the budget optimizer twice: once with ``progress=False`` and once at the default
(``progress=None``, which shows a bar in a notebook). JupyterLab serves it on localhost, headless
Chromium (Playwright) runs every cell, and the screenshot is taken while the optimizer's
multi-start bar is on screen. Bars close when their work ends (``leave=False``), so a finished
notebook shows none: the picture has to come from the run itself.

The script also checks what the picture claims: the ``progress=False`` cell has no bar, and
the default cell showed one while it ran. It exits non-zero otherwise.

Needs JupyterLab (``pip install 'bayes_mmm[screenshots]'``) and Chromium (Playwright's own or
``chromium`` on the PATH). The kernel runs without ``CI`` in its environment, since bars are
off under CI. Run from the repository root::

    make notebook-progress-screenshot
    # or: PYTHONPATH=. .venv/bin/python scripts/notebook_progress_screenshot.py [--out PNG]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "tiny_fit"
OUT = ROOT / "docs" / "screenshots" / "notebook_progress.png"

CELLS = [
    (
        "markdown",
        "# Progress on long work\n"
        "The budget optimizer's multi-start shows a bar in a notebook (the default, "
        "`progress=None`, shows one in notebooks and terminals, never under `CI`); "
        "`progress=False` runs silently.",
    ),
    (
        "code",
        "import bayes_mmm as bm\n"
        f"fit = bm.load({str(FIXTURE)!r})  # a saved 3-geo x 3-channel NUTS fit\n"
        "budget = float(fit.data.spend[-13:].sum())\n"
        "fit.data",
    ),
    (
        "code",
        "opts = dict(solver='slsqp', allow_unconverged=True)"
        "  # SLSQP: a few seconds per 20 starts\n"
        "quiet = fit.optimize(budget, n_starts=20, progress=False, **opts)\n"
        "quiet.table.round(2)",
    ),
    (
        "code",
        "plan = fit.optimize(budget, n_starts=100, **opts)  # progress=None: a bar while it runs\n"
        "plan.table.round(2)",
    ),
]

BAR = ".widget-hprogress"  # the ipywidgets FloatProgress that tqdm.auto draws in a notebook


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
        for kind, src in CELLS
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = folder / "progress.ipynb"
    nbformat.write(nb, path)
    return path


def _server(folder: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # bars are off under CI
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[var] = str(folder / ".jupyter" / var.lower())  # no user settings or workspaces
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--allow-root",  # CI machines and containers run as root
        f"--ServerApp.root_dir={folder}",
    ]
    log = open(folder / "jupyter.log", "w")  # the server's output, read when it fails to start
    proc = subprocess.Popen(cmd, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(1)
    proc.terminate()
    tail = (folder / "jupyter.log").read_text().splitlines()[-15:]
    sys.exit("JupyterLab did not start:\n" + "\n".join(tail))


def _launch(p):
    """Playwright's own Chromium, else the system's."""
    system = shutil.which("chromium-headless-shell") or shutil.which("chromium")
    try:
        return p.chromium.launch()
    except Exception:
        if system is None:
            raise
        return p.chromium.launch(executable_path=system)


def _kernel_idle(page, timeout_s: float) -> None:
    """Wait until the notebook's kernel is up and idle, accepting the "Select Kernel" dialog
    (Python 3) where JupyterLab asks instead of starting the notebook's own kernel."""
    status = page.locator(".jp-StatusBar-TextItem:has-text('| Idle')")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count():
            accept.first.click()
        if status.count():
            return
        time.sleep(0.5)
    sys.exit("the notebook's kernel did not start")


def shoot(out: Path, timeout_s: float = 120) -> None:
    """Run the notebook in JupyterLab and save the screenshot to ``out``."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        sys.exit("needs JupyterLab: pip install 'bayes_mmm[screenshots]'")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bayes_mmm_nb_") as tmp:
        folder = Path(tmp)
        _notebook(folder)
        port = _free_port()
        server = _server(folder, port)
        try:
            with sync_playwright() as p:
                browser = _launch(p)
                page = browser.new_page(viewport={"width": 1200, "height": 1000})
                page.set_default_timeout(timeout_s * 1000)
                # /doc: JupyterLab's single-document view (no file browser beside it).
                page.goto(f"http://127.0.0.1:{port}/doc/tree/progress.ipynb")
                page.wait_for_selector(".jp-Notebook .jp-Cell")
                _kernel_idle(page, timeout_s)
                cells = page.locator(".jp-Notebook .jp-CodeCell")
                for i in range(cells.count()):  # queue each cell: Ctrl+Enter runs it in place
                    cells.nth(i).locator(".jp-InputArea-prompt").click()
                    page.keyboard.press("Control+Enter")
                news = page.locator(".jp-toast-button:text-is('No')")  # "Jupyter news?"
                if news.count():
                    news.first.click()
                bar = cells.nth(2).locator(BAR)
                done = cells.nth(2).locator(".jp-OutputArea-output table")  # the plan
                out.parent.mkdir(parents=True, exist_ok=True)
                deadline = time.monotonic() + timeout_s
                while not bar.count():
                    if done.count() or time.monotonic() > deadline:
                        page.screenshot(path=str(out.with_suffix(".failed.png")))
                        sys.exit(f"no bar showed; see {out.with_suffix('.failed.png')}")
                    time.sleep(0.2)
                time.sleep(1.0)  # let the bar advance past its first steps
                page.screenshot(path=str(out))
                if cells.nth(1).locator(BAR).count():
                    sys.exit("the progress=False cell shows a bar")
                done.wait_for()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    shoot(ap.parse_args().out)


if __name__ == "__main__":
    main()
