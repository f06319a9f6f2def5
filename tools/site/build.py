"""Build the course website into ``site/``: ``python tools/site/build.py [--smoke]``.

The pages are staged in ``build/site-src`` and then built by MkDocs with Material and
mkdocs-jupyter (``mkdocs.yml`` at the repository root):

- ``README.md`` (the home page), ``docs/*.md`` with their images, ``workbook/README.md`` and
  ``lessons/README.md``, copied as they are so that their relative links keep working;
- every lesson notebook executed top to bottom (full experiments, or ``--smoke`` for the fast
  version CI uses), then decorated: a box under the title with the time and prerequisites from
  the lesson table of ``lessons/README.md``, each exercise cell labelled with its kind and task
  and followed by its hints and its answer behind click-to-reveal ``<details>``, and the
  questionnaire followed by its answers, all from ``lessons/solutions/``;
- MathJax and the Web Worker shim used by search on ``file://`` pages, unpacked from their
  npm packages (pinned by version and sha256), so that no page loads anything from another host.

Executed notebooks are cached in ``build/site-cache`` keyed by the notebook, ``course.py``,
the lesson's answer key and minigrad's sources, so a rebuild after editing prose only is fast.
The new site is built next to ``site/`` and swapped in only once the build has succeeded.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
LESSONS = ROOT / "lessons"
STAGE = ROOT / "build" / "site-src"
CACHE = ROOT / "build" / "site-cache"
CACHE_VERSION = "1"  # bump when the way notebooks are executed changes


@dataclass(frozen=True)
class NpmAsset:
    """Files taken from one npm package: ``members`` maps a path inside the tarball's
    ``package/`` folder (a file, or a folder ending in ``/``) to a path under ``assets/``."""

    name: str
    version: str
    sha256: str
    members: dict[str, str]


MATHJAX = NpmAsset("mathjax", "3.2.2", "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09", {
    "es5/tex-chtml-full.js": "mathjax/tex-chtml-full.js",
    "es5/output/chtml/fonts/woff-v2/": "mathjax/output/chtml/fonts/woff-v2/",
    "es5/ui/": "mathjax/ui/",        # the right-click menu's lazily loaded parts
    "es5/a11y/": "mathjax/a11y/",    # the explorer the menu can switch on
    "es5/sre/": "mathjax/sre/",      # the speech rules the explorer loads
    "LICENSE": "mathjax/LICENSE",
})
IFRAME_WORKER = NpmAsset("iframe-worker", "1.0.4",
                         "e8c5d12d87829c503afba01d67772ea9f4aba5b7ae57a0c98e1917711030efbb", {
                             "shim/index.js": "iframe-worker/shim.js",
                             "LICENSE": "iframe-worker/LICENSE",
                         })


@dataclass(frozen=True)
class LessonInfo:
    """One row of the lesson table in ``lessons/README.md``."""

    number: str
    title: str
    teaches: str
    time: str
    needs: str


def lesson_table(readme: str) -> dict[str, LessonInfo]:
    """The rows of the ``## The lessons`` table, by lesson number ("00" to "11")."""
    start = readme.find("## The lessons")
    if start < 0:
        raise SystemExit("lessons/README.md has no '## The lessons' section: the site takes each "
                         "lesson's time and prerequisites from its table")
    rows: dict[str, LessonInfo] = {}
    for line in readme[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"\d\d", cells[0]):
            title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cells[1])
            rows[cells[0]] = LessonInfo(cells[0], title, cells[2], cells[3], cells[4])
    return rows


def inline_markdown(text: str) -> str:
    """``text`` (Markdown with `code` and $maths$) as HTML without the enclosing <p>."""
    import markdown

    converted = markdown.markdown(text, extensions=["pymdownx.arithmatex"],
                                  extension_configs={"pymdownx.arithmatex": {"generic": True}})
    return re.sub(r"^<p>(.*)</p>$", r"\1", converted.strip(), flags=re.S)


def highlight_python(source: str) -> str:
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    return highlight(source, PythonLexer(), HtmlFormatter(cssclass="highlight", wrapcode=True))


def raw_html(source: str):
    """A raw notebook cell that nbconvert copies into the page as HTML."""
    import nbformat

    return nbformat.v4.new_raw_cell(source, metadata={"raw_mimetype": "text/html"})


def load_course() -> ModuleType:
    """``lessons/course.py`` imported as ``course``, as the solutions files import it."""
    import importlib.util

    if "course" not in sys.modules:
        spec = importlib.util.spec_from_file_location("course", LESSONS / "course.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["course"] = module
        spec.loader.exec_module(module)
    return sys.modules["course"]


def meta_box(info: LessonInfo, notebook_name: str, exercises: int, smoke: bool) -> str:
    """The box under a lesson's title: what it teaches, time, prerequisites, exercises."""
    mode = ("Executed in <strong>smoke mode</strong> (small data, few steps): the numbers are "
            "not the full experiment's." if smoke else "Executed in full.")
    parts = [f"<strong>Time:</strong> {inline_markdown(info.time)}",
             f"<strong>Needs:</strong> {inline_markdown(info.needs)}"]
    if exercises:
        parts.append(f"<strong>Exercises:</strong> {exercises}, each with hints and its answer")
    return (
        f'<div class="admonition info mg-lesson-meta">\n'
        f'<p class="admonition-title">Lesson {info.number}: {inline_markdown(info.title)}</p>\n'
        f"<p>{' &middot; '.join(parts)}</p>\n"
        f"<p>{inline_markdown(info.teaches)}</p>\n"
        f"<p>{mode} Run it yourself: <code>make setup</code>, then "
        f"<code>.venv/bin/jupyter lab lessons/{html.escape(notebook_name)}</code>.</p>\n"
        f"</div>"
    )


def exercise_label(exercise_id: str, ex) -> str:
    return (f'<div class="mg-exercise-label" id="exercise-{exercise_id}">'
            f'<span class="mg-exercise-kind">Exercise &middot; {html.escape(ex.kind)}</span> '
            f'{inline_markdown(ex.task)} <code class="mg-exercise-id">{html.escape(exercise_id)}</code><br>'
            f"Fill in the blank in the cell below and run it: it prints <code>OK</code>, or "
            f"<code>Not yet</code> with a hint.</div>")


def exercise_help(exercise_id: str, ex) -> str:
    """The hints, then the answer, each behind a click-to-reveal <details>."""
    hints = "\n".join(
        f'<details class="tip mg-hint"><summary>Hint {k} of {len(ex.hints)}</summary>\n'
        f"<p>{inline_markdown(hint)}</p>\n</details>"
        for k, hint in enumerate(ex.hints, start=1))
    return (f'<div class="mg-exercise-help" data-exercise="{html.escape(exercise_id)}">\n{hints}\n'
            f'<details class="success mg-answer"><summary>Answer</summary>\n'
            f"{highlight_python(ex.solution)}</details>\n</div>")


def questionnaire_answers(questions: dict[str, str]) -> str:
    items = "\n".join(f"<li><p><em>{inline_markdown(q)}</em></p><p>{inline_markdown(a)}</p></li>"
                      for q, a in questions.items())
    return (f'<details class="success mg-answers"><summary>Answers to the questionnaire</summary>\n'
            f"<ol>\n{items}\n</ol>\n</details>")


def decorate(notebook, info: LessonInfo, notebook_name: str, smoke: bool):
    """``notebook`` with the meta box, the exercises' labels, hints and answers, and the
    questionnaire's answers inserted as raw HTML cells; cells are never removed or changed."""
    course = load_course()
    key = course.solutions(info.number) if any(course.SOLUTIONS.glob(f"{info.number}_*.py")) else None
    cells = []
    exercises = 0
    for cell in notebook.cells:
        if "exercise" in cell.metadata.get("tags", []):
            exercise_id = cell.metadata.get("exercise_id", "")
            if key is None or exercise_id not in key.EXERCISES:
                raise SystemExit(f"lesson {info.number}: exercise cell {exercise_id!r} has no answer "
                                 f"key in lessons/solutions/{info.number}_*.py")
            ex = key.EXERCISES[exercise_id]
            cells += [raw_html(exercise_label(exercise_id, ex)), cell,
                      raw_html(exercise_help(exercise_id, ex))]
            exercises += 1
            continue
        cells.append(cell)
        if (cell.cell_type == "markdown" and "## Questionnaire" in cell.source and key is not None
                and getattr(key, "QUESTIONS", None)):
            cells.append(raw_html(questionnaire_answers(key.QUESTIONS)))
    first = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), 0)
    cells.insert(first + 1, raw_html(meta_box(info, notebook_name, exercises, smoke)))
    notebook.cells = cells
    return notebook


def cache_key(notebook_path: Path, smoke: bool) -> str:
    """What an executed notebook depends on: itself, the course helpers, its answer key and
    minigrad's sources (a lesson imports minigrad)."""
    digest = hashlib.sha256(f"{CACHE_VERSION} smoke={smoke}\n".encode())
    inputs = [notebook_path, LESSONS / "course.py",
              *sorted((LESSONS / "solutions").glob(f"{notebook_path.name[:2]}_*.py")),
              *sorted((ROOT / "minigrad").rglob("*.py"))]
    for path in inputs:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def execute(notebook_path: Path, smoke: bool, timeout: int, use_cache: bool):
    """The lesson executed top to bottom in the lessons folder (from the cache when its inputs
    have not changed). A cell that raises stops the build, naming the lesson and the cell."""
    import nbclient
    import nbformat

    from minigrad.atomic import atomic_write

    mode = "smoke" if smoke else "full"
    cached = CACHE / "executed" / f"{notebook_path.stem}-{mode}-{cache_key(notebook_path, smoke)}.ipynb"
    if use_cache and cached.exists():
        return nbformat.read(cached, as_version=4), True
    notebook = nbformat.read(notebook_path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(LESSONS)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as err:
        raise SystemExit(f"{notebook_path.name} failed while executing for the site "
                         f"({mode} mode):\n{err}") from None
    for stale in cached.parent.glob(f"{notebook_path.stem}-{mode}-*.ipynb"):
        stale.unlink()
    atomic_write(cached, nbformat.writes(notebook))
    return notebook, False


def vendor(asset: NpmAsset, assets_dir: Path) -> None:
    """Unpack ``asset``'s files under ``assets_dir``, from the npm tarball cached in
    ``build/site-cache`` (fetched with ``npm pack`` and checked against its sha256)."""
    tarball = CACHE / "npm" / f"{asset.name}-{asset.version}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit(f"the site serves {asset.name} {asset.version} itself (no CDN) and "
                             "takes it from the npm registry, but npm is not installed: install "
                             "Node.js's npm (Debian: apt-get install npm)")
        tarball.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=tarball.parent) as tmp:
            subprocess.run([npm, "pack", "--silent", f"{asset.name}@{asset.version}"], cwd=tmp,
                           check=True, stdout=subprocess.DEVNULL)
            os.replace(Path(tmp) / tarball.name, tarball)
    data = tarball.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != asset.sha256:
        tarball.unlink()
        raise SystemExit(f"{tarball.name}: sha256 {digest} is not the pinned {asset.sha256}; "
                         "the file was removed, run the build again to fetch it anew")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            for source, target in asset.members.items():
                if member.isfile() and (name == source or source.endswith("/") and name.startswith(source)):
                    dest = assets_dir / (target + name[len(source):] if source.endswith("/") else target)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(tar.extractfile(member).read())
    missing = [t for s, t in asset.members.items() if not (assets_dir / t).exists()]
    if missing:
        raise SystemExit(f"{asset.name} {asset.version} has no {missing}: update build.py's list")


def stage_pages(stage: Path) -> None:
    """README, docs, the workbook guide and the lesson index, in the repository's layout."""
    shutil.copy2(ROOT / "README.md", stage / "README.md")
    (stage / "docs").mkdir()
    for path in sorted((ROOT / "docs").rglob("*")):
        if path.is_file() and path.suffix in {".md", ".svg", ".png", ".jpg", ".gif"}:
            dest = stage / path.relative_to(ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
    (stage / "workbook").mkdir()
    shutil.copy2(ROOT / "workbook" / "README.md", stage / "workbook" / "README.md")
    (stage / "lessons").mkdir()
    shutil.copy2(LESSONS / "README.md", stage / "lessons" / "README.md")
    shutil.copytree(HERE / "assets", stage / "assets")


def swap_in(built: Path, site_dir: Path) -> None:
    """Replace ``site_dir`` by ``built`` (renames, so it is never seen half-built)."""
    old = built.with_name(built.name + ".old")
    if site_dir.exists():
        shutil.move(site_dir, old)
    shutil.move(built, site_dir)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="execute the lessons in smoke mode (seconds each; what CI builds)")
    parser.add_argument("--site-dir", type=Path, default=ROOT / "site", help="where the site goes")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--no-cache", action="store_true", help="execute every lesson again")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ["MINIGRAD_SMOKE"] = "1" if args.smoke else "0"
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    started = time.perf_counter()

    shutil.rmtree(STAGE, ignore_errors=True)
    STAGE.mkdir(parents=True)
    stage_pages(STAGE)
    for asset in (MATHJAX, IFRAME_WORKER):
        vendor(asset, STAGE / "assets")

    import nbformat

    table = lesson_table((LESSONS / "README.md").read_text(encoding="utf-8"))
    for path in sorted(LESSONS.glob("[0-9][0-9]_*.ipynb")):
        info = table.get(path.name[:2])
        if info is None:
            raise SystemExit(f"lessons/README.md's lesson table has no row for {path.name}: add "
                             "its time and prerequisites there")
        t = time.perf_counter()
        notebook, from_cache = execute(path, args.smoke, args.timeout, not args.no_cache)
        nbformat.write(decorate(notebook, info, path.name, args.smoke), STAGE / "lessons" / path.name)
        print(f"  {path.stem}: {'cached' if from_cache else f'executed in {time.perf_counter() - t:.1f} s'}",
              flush=True)

    site_dir = args.site_dir.resolve()
    building = Path(tempfile.mkdtemp(prefix="site-", suffix=".new", dir=STAGE.parent))
    building.chmod(0o755)
    try:
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--config-file",
                        str(ROOT / "mkdocs.yml"), "--site-dir", str(building)], cwd=ROOT, check=True)
    except subprocess.CalledProcessError:
        shutil.rmtree(building, ignore_errors=True)
        raise SystemExit("mkdocs build failed (messages above); site/ was left as it was") from None
    swap_in(building, site_dir)
    print(f"site built in {time.perf_counter() - started:.0f} s "
          f"({'smoke' if args.smoke else 'full'} mode): {site_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
