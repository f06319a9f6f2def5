"""The course website (``make site``) in a real browser: headless Chromium from Debian's
``chromium`` package, driven by Playwright, on ``site/`` served from 127.0.0.1.

Every page loads with no console error and no failed request, and asks nothing of another
host; its maths is typeset (no raw TeX left in the text, no MathJax error); every image has
loaded and every SVG graph is drawn; a screenshot of it goes to ``site-screenshots/``. On the
lessons: the time and prerequisites of ``lessons/README.md``, every exercise of the answer key
with its hints and its answer hidden until clicked; the backward-frames slider changes the
frame shown; search finds the loss zoo for "cross-entropy"; and the site also works opened
from the file system.

Without a browser: the lesson table gives every lesson its time and prerequisites, the build's
hooks take nbconvert's CDN loaders out of a real mkdocs-jupyter page and fail the build on any
remote asset, and a lesson is decorated with its exercises' hints and answers.

The browser tests use the site already built (``make site SMOKE=1`` builds the fast one in a few
minutes; CI builds it before ``make test``). It skips when the site, Playwright or Chromium is
missing, unless ``MINIGRAD_REQUIRE_SITE_TEST=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, SimpleNamespace
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MINIGRAD_SITE_DIR", ROOT / "site"))
SCREENSHOTS = ROOT / "site-screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Whatever the page asks for, only 127.0.0.1 resolves: nothing can leave the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
REQUIRED = os.environ.get("MINIGRAD_REQUIRE_SITE_TEST") == "1"
STALE = "(if lessons/ changed since the site was built: make site SMOKE=1)"
BUILT = (SITE / "index.html").exists()
PAGES = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")) if BUILT else []
LESSON_PAGES = [p for p in PAGES if re.fullmatch(r"lessons/\d\d_\w+\.html", p)]
LOSS_ZOO = "lessons/04_the_loss_zoo.html"
FRAMES_LESSON = "lessons/02_backprop_is_the_chain_rule.html"
RAW_TEX = re.compile(r"\$\$|\\\(|\\\[|\\(frac|sum|partial|sigma|cdot|mathrm|text|left|right|begin|sqrt|nabla"
                     r"|alpha|beta|lambda|theta|infty|approx|times|log|exp)\b|\$[^$\s][^$\n]{0,200}?\$")

# The text of the page outside code, outputs, typeset maths (which keeps its TeX source) and
# mkdocs-jupyter's hidden copy of each code cell (what its copy button copies).
PROSE_JS = """() => {
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "MJX-CONTAINER", "SVG"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode(node) {
    for (let el = node.parentElement; el; el = el.parentElement)
      if (skip.has(el.tagName.toUpperCase()) || el.classList.contains("clipboard-copy-txt"))
        return NodeFilter.FILTER_REJECT;
    return NodeFilter.FILTER_ACCEPT;
  }});
  const parts = [];
  while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
  return parts.join(" ");
}"""
MATHJAX_DONE_JS = "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
BAD_IMAGES_JS = """() => [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))
                    .map(i => (i.getAttribute("src") || "").slice(0, 120))"""
# The width drawn of each SVG output of a notebook cell (nbconvert shows it as an <img> of an SVG
# data URL), and of each SVG image of a Markdown page; 0 for one that shows nothing.
SVG_OUTPUTS_JS = """() => [...document.querySelectorAll(".jp-RenderedSVG")].map(div => {
  const img = div.querySelector("img[src^='data:image/svg+xml']");
  const svg = div.querySelector("svg");
  if (img) return img.complete ? img.naturalWidth : 0;
  return svg ? svg.getBoundingClientRect().width : 0;
}).concat([...document.querySelectorAll("img[src$='.svg']")].map(i => i.complete ? i.naturalWidth : 0))"""


def _site_module(name: str) -> ModuleType:
    """``tools/site/<name>.py``, imported by path (``build`` is also a PyPI package's name)."""
    pytest.importorskip("mkdocs")
    module_name = f"minigrad_site_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, ROOT / "tools" / "site" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    return sys.modules[module_name]


def test_lesson_table_gives_every_lesson_its_time_and_prerequisites():
    build = _site_module("build")
    table = build.lesson_table((ROOT / "lessons" / "README.md").read_text(encoding="utf-8"))
    lessons = sorted(p.name[:2] for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(table) == lessons
    for row in table.values():
        assert re.search(r"\d+ min", row.time) and row.needs and row.title, row


def test_hooks_remove_nbconvert_cdn_loaders_and_reject_remote_assets(tmp_path):
    """A page rendered by mkdocs-jupyter as mkdocs.yml configures it carries nbconvert's
    MathJax 2 loader (``<script src="">`` and a config calling ``MathJax.Hub``, an error beside
    MathJax 3) and a Mermaid loader importing from a CDN: the hooks remove both."""
    nbformat = pytest.importorskip("nbformat")
    nbconvert2 = pytest.importorskip("mkdocs_jupyter.nbconvert2")
    from mkdocs.exceptions import PluginError

    hooks = _site_module("hooks")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T\n\n$x^2$, see [02](02_backprop_is_the_chain_rule.ipynb#hooks)"),
        nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(notebook, tmp_path / "t.ipynb")
    rendered = nbconvert2.nb2html(str(tmp_path / "t.ipynb"), custom_mathjax_url="", include_requirejs=False)
    assert "MathJax.Hub" in rendered and "cdnjs" in rendered, "mkdocs-jupyter's template changed"
    page = SimpleNamespace(file=SimpleNamespace(src_uri="lessons/t.ipynb"))
    content = hooks.on_page_content(rendered, page, None, None)
    assert "MathJax.Hub" not in content and "cdnjs" not in content and "<script src=\"\">" not in content
    assert 'href="02_backprop_is_the_chain_rule.html#hooks"' in content
    assert hooks.on_post_page(content, page, None) == content
    for remote in ('<script src="https://cdn.example.org/x.js"></script>',
                   '<link rel="stylesheet" href="//fonts.googleapis.com/css?family=Roboto">',
                   '<style>@import url("https://cdn.example.org/x.css");</style>',
                   '<script type="module">await import("https://cdn.example.org/m.mjs")</script>'):
        with pytest.raises(PluginError, match="another host"):
            hooks.on_post_page(remote, page, None)


def test_decorate_adds_meta_exercise_hints_answers_and_questionnaire_answers():
    nbformat = pytest.importorskip("nbformat")
    build = _site_module("build")
    key = build.load_course().solutions("04")
    exercise_id = sorted(key.EXERCISES)[0]
    cell = nbformat.v4.new_code_cell("answer = ...",
                                     metadata={"tags": ["exercise"], "exercise_id": exercise_id})
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lesson 4"), cell,
        nbformat.v4.new_markdown_cell("## Questionnaire\n\n1. Why?")])
    info = build.LessonInfo("04", "The loss zoo", "losses", "60 min", "lessons 01-03")
    cells = build.decorate(notebook, info, "04_the_loss_zoo.ipynb", smoke=True).cells
    kinds = [(c.cell_type, c.metadata.get("raw_mimetype")) for c in cells]
    assert kinds == [("markdown", None), ("raw", "text/html"), ("raw", "text/html"), ("code", None),
                     ("raw", "text/html"), ("markdown", None), ("raw", "text/html")]
    assert all(text in cells[1].source for text in ("60 min", "lessons 01-03", "smoke mode"))
    assert exercise_id in cells[2].source and cells[3] is cell
    ex = key.EXERCISES[exercise_id]
    assert cells[4].source.count('<details class="tip mg-hint">') == len(ex.hints)
    assert '<details class="success mg-answer">' in cells[4].source and " open" not in cells[4].source
    assert cells[6].source.count("<li>") == len(key.QUESTIONS)
    orphan = nbformat.v4.new_code_cell("", metadata={"tags": ["exercise"],
                                                     "exercise_id": "04-no-such-exercise"})
    with pytest.raises(SystemExit, match="04-no-such-exercise"):
        build.decorate(nbformat.v4.new_notebook(cells=[orphan]), info, "04_the_loss_zoo.ipynb", smoke=True)


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright is not installed: pip install -e '.[site]' (make site does)"
    if not Path(CHROMIUM).exists():
        return "Debian's Chromium is not installed: apt-get install chromium"
    if not BUILT:
        return f"the site is not built in {SITE}: make site SMOKE=1"
    return None


def test_site_browser_and_playwright_are_there():
    reason = _missing()
    if reason and REQUIRED:
        pytest.fail(f"MINIGRAD_REQUIRE_SITE_TEST=1 but {reason}")
    if reason:
        pytest.skip(reason)
    assert LESSON_PAGES and LOSS_ZOO in PAGES and FRAMES_LESSON in PAGES, PAGES


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """``site/`` served on 127.0.0.1 (a free port) from a thread, for the module's tests."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        (pytest.fail if REQUIRED else pytest.skip)(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """One page open in a fresh browser context, with what went wrong while it loaded."""

    page: object
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.offsite, f"requests to another host (aborted): {self.offsite}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture
def visit(browser, base_url):
    """``visit(path)`` opens ``base_url + path`` (or a ``file://`` URL), guarding every
    request, and waits until MathJax has typeset the page."""
    contexts = []
    origin = urlsplit(base_url)

    def open_page(path: str) -> Visit:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        seen = Visit(page)

        def guard(route):
            url = urlsplit(route.request.url)
            if url.scheme in ("http", "https", "ws", "wss") and url.netloc != origin.netloc:
                seen.offsite.append(route.request.url)
                route.abort()
            else:
                route.continue_()

        context.route("**/*", guard)
        page.on("console", lambda msg: seen.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: seen.errors.append(str(exc)))
        page.on("requestfailed", lambda req: seen.failed.append(f"{req.url}: {req.failure}"))
        page.on("response",
                lambda r: seen.failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
        url = path if path.startswith("file://") else base_url + path
        response = page.goto(url, wait_until="load")
        assert response is None or response.ok, f"{url}: HTTP {response.status}"
        try:
            page.wait_for_function(MATHJAX_DONE_JS, timeout=30_000)
        except Exception as err:  # Playwright's TimeoutError: say what the page went through
            raise AssertionError(f"{url}: MathJax did not start ({err}); failed requests "
                                 f"{seen.failed}, console errors {seen.errors}") from None
        page.evaluate("() => MathJax.startup.promise")
        return seen

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_offline_with_maths_images_and_graphs(visit, path):
    seen = visit(path)
    page = seen.page
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / (path.removesuffix(".html").replace("/", "__") + ".png"),
                    full_page=True)
    seen.assert_clean()

    raw = sorted({m.group(0) for m in RAW_TEX.finditer(page.evaluate(PROSE_JS))})
    assert not raw, f"{path}: maths left as raw TeX in the text: {raw}"
    errors = page.eval_on_selector_all("mjx-merror", "els => els.map(e => e.textContent)")
    assert not errors, f"{path}: MathJax could not typeset {errors}"
    if path in LESSON_PAGES:
        assert page.locator("mjx-container").count() > 0, f"{path}: a lesson with no typeset maths"

    assert not page.evaluate(BAD_IMAGES_JS), f"{path}: images that did not load"
    svgs = page.evaluate(SVG_OUTPUTS_JS)
    assert all(svgs), f"{path}: SVG graphs that show nothing (widths {svgs})"
    if path in ("lessons/01_a_scalar_value_and_its_graph.html", FRAMES_LESSON, "index.html"):
        assert svgs, f"{path} should show its computation graphs"


def _lesson_rows() -> dict[str, list[str]]:
    readme = (ROOT / "lessons" / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## The lessons"):]
    return {cells[0]: cells for line in table.splitlines()
            if len(cells := [c.strip() for c in line.strip().strip("|").split("|")]) == 5}


def _answer_key(lesson: str):
    from tests.lesson_notebooks import LESSONS, load_course

    course = load_course()
    return course.solutions(lesson) if list((LESSONS / "solutions").glob(f"{lesson}_*.py")) else None


def _plain(markdown: str) -> str:
    return re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown).replace("`", "")


@pytest.mark.parametrize("path", LESSON_PAGES)
def test_lesson_shows_time_prerequisites_and_exercises_with_hidden_answers(visit, path):
    lesson = path.split("/")[1][:2]
    row = _lesson_rows()[lesson]
    page = visit(path).page
    meta = page.locator(".mg-lesson-meta").inner_text()
    assert f"Time: {_plain(row[3])}" in meta and f"Needs: {_plain(row[4])}" in meta, f"{meta} {STALE}"

    key = _answer_key(lesson)
    expected = sorted(key.EXERCISES) if key else []
    labels = page.locator(".mg-exercise-label code.mg-exercise-id").all_inner_texts()
    assert sorted(labels) == expected, f"{path}: exercises on the page differ from the answer key {STALE}"
    cells = page.eval_on_selector_all(  # mkdocs-jupyter nests each code cell in a copy of its div
        ".jp-Cell.celltag_exercise",
        "els => els.filter(e => !e.parentElement.closest('.celltag_exercise')).length")
    assert cells == len(expected), f"{path}: {cells} cells tagged exercise"
    for exercise_id in expected:
        ex = key.EXERCISES[exercise_id]
        helpers = page.locator(f'.mg-exercise-help[data-exercise="{exercise_id}"]')
        assert helpers.locator("details.mg-hint").count() == len(ex.hints)
        answer = helpers.locator("details.mg-answer")
        code = answer.locator(".highlight")
        first_line = ex.solution.strip().splitlines()[0].strip()
        assert not code.is_visible(), f"{exercise_id}: the answer shows before it is clicked"
        answer.locator("summary").click()
        assert code.is_visible() and first_line in code.inner_text(), exercise_id
    if key is not None and getattr(key, "QUESTIONS", None):
        answers = page.locator("details.mg-answers")
        assert not answers.locator("ol").is_visible()
        answers.locator("summary").click()
        assert answers.locator("ol > li").count() == len(key.QUESTIONS)


def test_backward_frames_slider_changes_the_frame(visit):
    page = visit(FRAMES_LESSON).page
    slider_box = page.locator("div[id^=mgframes]").first
    slider = slider_box.locator("input[type=range]")
    frames = slider_box.locator(":scope > div")
    count = frames.count()
    assert count >= 3 and slider.get_attribute("max") == str(count - 1)

    def shown() -> list[int]:
        return [k for k in range(count) if frames.nth(k).is_visible()]

    assert shown() == [0]
    first = frames.nth(0).inner_text()
    slider.scroll_into_view_if_needed()
    slider.focus()
    page.keyboard.press("ArrowRight")
    assert shown() == [1] and frames.nth(1).inner_text() != first
    assert f"step 2 of {count}" in slider_box.inner_text()
    assert frames.nth(1).locator("svg").bounding_box()["width"] > 0

    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    assert shown() == [count - 1], "clicking the slider's right end should show the last frame"
    SCREENSHOTS.mkdir(exist_ok=True)
    slider_box.screenshot(path=SCREENSHOTS / "backward-frames-last.png")


def _search(page, query: str) -> list[str]:
    """Type ``query`` in the search box; the pages of the results, best first, as paths
    relative to the site."""
    box = page.locator("input.md-search__input")
    box.click()
    box.press_sequentially(query)
    # Results are listed while typing; wait for those of the whole query (each link ends ?h=...).
    terms = "+".join(re.split(r"[\s-]+", query))
    page.wait_for_function(f"""() => {{
        const a = document.querySelector(".md-search-result__item > a.md-search-result__link");
        return a && a.href.includes("?h={terms}");
    }}""")
    hrefs = page.eval_on_selector_all(".md-search-result__item > a.md-search-result__link",
                                      "els => els.map(e => e.href)")
    site = SITE.resolve().as_uri() + "/"
    paths = []
    for href in hrefs:
        path = href.split("?")[0].split("#")[0]
        path = path.removeprefix(site) if path.startswith("file:") else urlsplit(path).path.lstrip("/")
        if path not in paths:
            paths.append(path)
    return paths


def test_search_for_cross_entropy_finds_the_loss_zoo(visit):
    seen = visit("index.html")
    found = _search(seen.page, "cross-entropy")
    assert LOSS_ZOO in found[:3], f"searching 'cross-entropy' found, best first: {found}"
    seen.page.screenshot(path=SCREENSHOTS / "search-cross-entropy.png")
    seen.assert_clean()


def test_site_works_opened_from_the_file_system(visit):
    seen = visit((SITE / LOSS_ZOO).resolve().as_uri())
    page = seen.page
    assert page.locator("mjx-container").count() > 0
    assert not page.eval_on_selector_all("mjx-merror", "els => els.length")
    header = page.eval_on_selector(".md-header", "e => getComputedStyle(e).backgroundColor")
    assert header not in ("", "rgba(0, 0, 0, 0)"), "the theme's stylesheet did not load"
    found = _search(page, "cross-entropy")
    assert LOSS_ZOO in found[:3], f"searching 'cross-entropy' found, best first: {found}"
    seen.assert_clean()
