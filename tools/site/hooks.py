"""MkDocs hooks for the course website (``mkdocs.yml`` lists this file under ``hooks``).

- ``on_config``: the navigation, from what ``tools/site/build.py`` staged: home, the course
  (its index, then the lessons in order, titled as in the lesson table of
  ``lessons/README.md``), the workbook guide, the docs.
- ``on_page_markdown``: a relative link to a file that is not on the site (a source file, the
  answer keys' folder) becomes its plain text instead of a dead link.
- ``on_page_content``: in a lesson, links to another lesson's ``.ipynb`` go to its page;
  nbconvert's MathJax 2 and Mermaid loaders (which point at a CDN) are removed, since MathJax 3
  is served from ``site/assets`` on every page; heading anchors become Material's permalinks,
  and prompts, copy buttons and the hidden copy of each code cell are kept out of the search
  index (search would otherwise find every code cell twice).
- ``on_post_page``: the build fails if a page would still load a script, a stylesheet or a
  font from another host.
"""

from __future__ import annotations

import importlib.util
import logging
import posixpath
import re
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError


def _build_module():
    """``build.py`` beside this file (imported by path: ``build`` is also a PyPI package)."""
    spec = importlib.util.spec_from_file_location("minigrad_site_build", Path(__file__).with_name("build.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


lesson_table = _build_module().lesson_table
log = logging.getLogger("mkdocs.hooks.minigrad_site")

DOCS_ORDER = ("architecture", "nn", "losses", "optim", "data", "kernels", "viz", "debug")

LINK = re.compile(r"(?<!!)\[([^\]\n]*)\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
NBCONVERT_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
NBCONVERT_MERMAID = re.compile(
    r"<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>", re.S)
NOTEBOOK_LINK = re.compile(r'href="(\d\d_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"')
NOT_SEARCHED = re.compile(r'<div class="((?:jp-InputPrompt|jp-OutputPrompt|zeroclipboard-container'
                          r'|clipboard-copy-txt|celltoolbar)\b[^"]*)"')
REMOTE = re.compile(
    r"<script[^>]*\ssrc=[\"']?(?:https?:)?//"
    r"|<link[^>]*\shref=[\"']?(?:https?:)?//[^>]*>"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|import\(\s*[\"'](?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//",
    re.I)


def on_config(config):
    docs = Path(config["docs_dir"])
    table = lesson_table((docs / "lessons" / "README.md").read_text(encoding="utf-8"))
    lessons = []
    for path in sorted((docs / "lessons").glob("[0-9][0-9]_*.ipynb")):
        row = table.get(path.name[:2])
        page = path.relative_to(docs).as_posix()
        lessons.append({f"{row.number} · {row.title}": page} if row else page)
    pages = {p.stem: p.relative_to(docs).as_posix() for p in (docs / "docs").glob("*.md")}
    ordered = [pages.pop(name) for name in DOCS_ORDER if name in pages] + sorted(pages.values())
    config["nav"] = [
        {"Home": "README.md"},
        {"Course": ["lessons/README.md", *lessons]},
        {"Workbook": "workbook/README.md"},
        {"Docs": ordered},
    ]
    return config


def _resolves(target: str, page_dir: str, files) -> bool:
    path = target.split("#", 1)[0]
    if not path:
        return True
    resolved = posixpath.normpath(posixpath.join(page_dir, path))
    candidates = [resolved]
    if path.endswith("/"):
        candidates += [f"{resolved}/README.md", f"{resolved}/index.md"]
    return any(files.get_file_from_path(c) is not None for c in candidates)


def on_page_markdown(markdown, page, config, files):
    page_dir = posixpath.dirname(page.file.src_uri)

    def unlink(match: re.Match) -> str:
        text, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/|^#", target) or _resolves(target, page_dir, files):
            return match.group(0)
        log.info("%s: %s is not on the site; its link text stays as plain text", page.file.src_uri, target)
        return text

    lines, in_code = [], False
    for line in markdown.splitlines(keepends=True):
        if FENCE.match(line):
            in_code = not in_code
        lines.append(line if in_code or FENCE.match(line) else LINK.sub(unlink, line))
    return "".join(lines)


def on_page_content(html, page, config, files):
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    html = NBCONVERT_MATHJAX.sub("", html)
    html = NBCONVERT_MERMAID.sub("", html)
    html = html.replace('class="anchor-link"', 'class="headerlink"')
    html = NOT_SEARCHED.sub(r'<div class="\1" data-search-exclude', html)
    return NOTEBOOK_LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', html)


def on_post_page(output, page, config):
    found = REMOTE.search(output)
    if found:
        start = max(0, found.start() - 80)
        raise PluginError(f"{page.file.src_uri} would load something from another host, but the site "
                          f"must work offline: ...{output[start:found.end() + 80]}... "
                          "Serve it from site/assets (tools/site/build.py vendors npm packages).")
    return output
