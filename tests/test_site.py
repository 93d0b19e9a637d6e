"""The documentation site: built offline with warnings as errors, every page executed, and every
page loaded in a real browser.

The build is the README's command (``python -m sphinx -W --keep-going -j auto -b html docs OUT``),
into a temporary folder: sphinx-gallery runs ``gallery/plot_*.py`` (quick sizes), MyST-NB runs the
tutorials and the lessons in Jupyter kernels (a cell that raises fails the build).  Then headless
Chromium, driven by selenium, loads every HTML page from a local HTTP server (127.0.0.1) and
fails on

* a broken image (``naturalWidth == 0`` once loaded),
* a missing figure (a gallery example, tutorial or lesson page without the pictures its code
  draws; a gallery thumbnail left as the placeholder),
* a page error (a ``SEVERE`` entry in the browser console: a JavaScript exception, a resource
  that failed to load) or mathematics that MathJax did not typeset.

The browser test is skipped, with the reason, only when Chromium or ChromeDriver is not
installed (``.ci/run`` installs the Debian packages ``chromium`` and ``chromium-driver``).

Run the browser check on a site built by hand, and take screenshots::

    python tests/test_site.py docs/_build/html --screenshots /tmp/shots
"""

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# the first build executes everything (~3-5 min on 2 cores); the default per-test timeout is 600 s
pytestmark = pytest.mark.timeout(2400)

_CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
_DRIVER = ("chromedriver",)


def _which(names):
    for n in names:
        p = shutil.which(n) or (f"/usr/bin/{n}" if Path(f"/usr/bin/{n}").exists() else None)
        if p:
            return p
    return None


# ================================================================================ build
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    html = out / "html"
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # the notebooks' kernels show figures inline
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "auto", "-b", "html", "-d",
                           str(out / "doctrees"), str(DOCS), str(html)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=2300)
    seconds = time.perf_counter() - t0
    log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    (out / "build.log").write_text(log, encoding="utf-8")
    print(f"site built in {seconds:.0f} s: {html}")
    return {"html": html, "log": log, "returncode": proc.returncode, "seconds": seconds}


def _pages(html):
    return sorted(p for p in html.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)


def test_site_builds_offline_without_warnings(site):
    log = site["log"]
    # Sphinx's own messages ("file:line: WARNING: ..."), not the kernels' log lines ("[IPKernelApp] WARNING | ...")
    problems = [ln for ln in log.splitlines() if re.search(r"(^|: )(WARNING|ERROR|CRITICAL|SEVERE):", ln)]
    assert site["returncode"] == 0 and "build succeeded" in log, (
        "the site build failed:\n" + "\n".join(problems[-40:]) + "\n--- log (tail) ---\n" + log[-6000:])
    assert not problems, "warnings:\n" + "\n".join(problems)


def test_every_page_is_there(site):
    html = site["html"]
    names = {p.relative_to(html).as_posix() for p in _pages(html)}
    expected = {"index.html", "theory.html", "api.html", "benchmarks.html", "architecture.html", "explorer.html",
                "tutorials/index.html", "lessons/index.html", "auto_gallery/index.html"}
    expected |= {f"tutorials/{p.stem}.html" for p in (DOCS / "tutorials").glob("0*.md")}
    expected |= {f"lessons/{p.stem}.html" for p in (DOCS / "lessons").glob("0*.py")}
    expected |= {f"auto_gallery/{p.stem}.html" for p in (ROOT / "gallery").glob("plot_*.py")}
    assert expected <= names, f"missing pages: {sorted(expected - names)}"


def test_executed_pages_show_output_and_pictures(site):
    """Every tutorial, lesson and gallery page carries the output and the figures its code made."""
    html = site["html"]
    bad = []
    for page in _pages(html):
        rel = page.relative_to(html).as_posix()
        text = page.read_text(encoding="utf-8")
        if re.match(r"(tutorials|lessons)/0\d_", rel) or rel == "explorer.html":
            if "cell_output" not in text:
                bad.append(f"{rel}: no cell output")
            if not re.search(r'<img[^>]+src="[^"]*_images/[^"]+\.(png|gif)"', text):
                bad.append(f"{rel}: no output picture")
        elif re.match(r"auto_gallery/plot_", rel):
            if not re.search(r'<img[^>]+class\s*=\s*"sphx-glr-(single|multi)-img"', text):
                bad.append(f"{rel}: no figure")
    assert not bad, "\n".join(bad)
    gallery = (html / "auto_gallery" / "index.html").read_text(encoding="utf-8")
    thumbs = re.findall(r'<img[^>]+src="([^"]+)"', gallery)
    assert thumbs and not [t for t in thumbs if "no_image" in t], "a gallery thumbnail is the placeholder"
    # the animations are on their pages
    assert re.search(r'src="[^"]*\.gif"', (html / "auto_gallery" / "plot_singular_appears.html").read_text())
    assert re.search(r'src="[^"]*\.gif"', (html / "auto_gallery" / "plot_fig6_bunny.html").read_text())


def test_lessons_are_offered_as_notebooks(site):
    import nbformat

    downloads = list((site["html"] / "_downloads").rglob("*.ipynb"))
    stems = {p.stem for p in downloads}
    for script in (DOCS / "lessons").glob("0*.py"):
        assert script.stem in stems, f"no notebook for {script.name}"
    for nb in downloads:
        nbformat.validate(nbformat.read(nb, as_version=4))


# ============================================================================== browser
class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server:
    """The built site on http://127.0.0.1:PORT/ (a thread; stopped on exit)."""

    def __init__(self, root):
        handler = functools.partial(_Quiet, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def _driver(user_data_dir, width=1400, height=1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = _which(_CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(_which(_DRIVER)), options=opts)


# every <img> loaded eagerly and decoded: a broken one rejects (naturalWidth 0)
_IMAGES_JS = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
imgs.forEach(i => { i.loading = 'eager'; });
Promise.all(imgs.map(i => (i.complete && i.naturalWidth > 0) ? Promise.resolve() :
    i.decode().catch(() => null))).then(() => {
  done({n: imgs.length,
        broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src'))});
});
"""

_MATH_JS = """
const raw = document.querySelectorAll('span.math, div.math').length;
const typeset = document.querySelectorAll('mjx-container').length;
return {raw: raw, typeset: typeset, mathjax: typeof window.MathJax !== 'undefined'};
"""


def _expected_figures(rel):
    """CSS selector of the figures a page must show, or None."""
    if re.match(r"auto_gallery/plot_", rel):
        return "img.sphx-glr-single-img, img.sphx-glr-multi-img"
    if re.match(r"(tutorials|lessons)/0\d_", rel) or rel == "explorer.html":
        return "div.cell_output img"
    if rel == "auto_gallery/index.html":
        return "div.sphx-glr-thumbcontainer img"
    return None


def browse(html, screenshots=None, shots=("index.html", "auto_gallery/plot_fig3_two_half_disks.html",
                                          "lessons/03_caffarelli_and_the_singular_set.html")):
    """Load every page of a built site in headless Chromium; return ``(pages checked, problems)``.

    With ``screenshots`` (a folder), also save full-page PNG screenshots of the pages ``shots``.
    """
    import tempfile

    from selenium.webdriver.common.by import By

    html = Path(html)
    problems = []
    pages = _pages(html)
    with tempfile.TemporaryDirectory() as profile, _Server(html) as server:
        drv = _driver(profile)
        drv.set_script_timeout(60)
        drv.set_page_load_timeout(120)
        try:
            for page in pages:
                rel = page.relative_to(html).as_posix()
                drv.get(server.url + rel)
                imgs = drv.execute_async_script(_IMAGES_JS)
                for src in imgs["broken"]:
                    problems.append(f"{rel}: broken image {src}")
                sel = _expected_figures(rel)
                if sel and not drv.find_elements(By.CSS_SELECTOR, sel):
                    problems.append(f"{rel}: missing figure (nothing matches {sel!r})")
                math = drv.execute_script(_MATH_JS)
                deadline = time.time() + 20
                while math["raw"] and math["typeset"] == 0 and time.time() < deadline:
                    time.sleep(0.25)  # MathJax typesets asynchronously
                    math = drv.execute_script(_MATH_JS)
                if math["raw"] and not math["typeset"]:
                    problems.append(f"{rel}: {math['raw']} formulas not typeset by MathJax "
                                    f"(MathJax loaded: {math['mathjax']})")
                for entry in drv.get_log("browser"):
                    if entry.get("level") == "SEVERE":
                        problems.append(f"{rel}: console error: {entry.get('message')}")
                if screenshots is not None and rel in shots:
                    Path(screenshots).mkdir(parents=True, exist_ok=True)
                    height = drv.execute_script("return document.documentElement.scrollHeight")
                    drv.set_window_size(1400, min(int(height), 12000))
                    drv.save_screenshot(str(Path(screenshots) / (rel.replace("/", "_")[:-5] + ".png")))
                    drv.set_window_size(1400, 1000)
        finally:
            drv.quit()
    return len(pages), problems


def _needs_browser():
    missing = [what for what, names in (("Chromium", _CHROMIUM), ("ChromeDriver", _DRIVER)) if not _which(names)]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (Debian: apt-get install chromium chromium-driver; "
                    f".ci/run installs them)")
    pytest.importorskip("selenium", reason="selenium is part of the [docs] extra")


def test_browser_check_catches_what_it_should(tmp_path):
    """The check fails on a broken image, a gallery page without its figure and a page error."""
    _needs_browser()
    (tmp_path / "index.html").write_text('<html><body><img src="missing.png" alt="gone">'
                                         '<script>throw new Error("boom");</script></body></html>')
    (tmp_path / "auto_gallery").mkdir()
    (tmp_path / "auto_gallery" / "plot_empty.html").write_text("<html><body><p>no figure</p></body></html>")
    (tmp_path / "fine.html").write_text('<html><body><p>all good</p></body></html>')
    n, problems = browse(tmp_path, shots=())
    assert n == 3
    text = "\n".join(problems)
    assert "index.html: broken image missing.png" in text
    assert "index.html: console error" in text and "boom" in text
    assert "auto_gallery/plot_empty.html: missing figure" in text
    assert "fine.html" not in text


def test_every_page_in_a_real_browser(site, tmp_path):
    if site["returncode"] != 0:
        pytest.skip("the site did not build (see test_site_builds_offline_without_warnings)")
    _needs_browser()
    n, problems = browse(site["html"], screenshots=tmp_path / "screenshots")
    assert n >= 25
    assert not problems, f"{len(problems)} problem(s) on {n} pages:\n" + "\n".join(problems)
    shots = sorted((tmp_path / "screenshots").glob("*.png"))
    assert len(shots) == 3 and all(p.stat().st_size > 20_000 for p in shots)


if __name__ == "__main__":  # python tests/test_site.py SITE_DIR [--screenshots DIR]
    import argparse

    ap = argparse.ArgumentParser(description="load every page of a built site in headless Chromium")
    ap.add_argument("html", type=Path)
    ap.add_argument("--screenshots", type=Path, default=None)
    a = ap.parse_args()
    n, problems = browse(a.html, a.screenshots)
    print(json.dumps({"pages": n, "problems": problems}, indent=1))
    sys.exit(1 if problems else 0)
