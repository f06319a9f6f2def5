"""Graph: the DOT text of a picture, turned into SVG/PNG/PDF by Graphviz's ``dot`` program.

Only the text needs nothing installed. Rendering calls the ``dot`` binary in a subprocess;
without it, a notebook shows the DOT text and one message saying how to install Graphviz.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from ..atomic import atomic_write

INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH, so the graph cannot be rendered. "
    "Install Graphviz (Debian/Ubuntu: `sudo apt-get install graphviz`, macOS: `brew install "
    "graphviz`, conda: `conda install graphviz`, others: https://graphviz.org/download/). "
    "The DOT text (graph.source), viz.to_text() and save(..., format='dot') work without it."
)
FORMATS = ("svg", "png", "pdf", "dot")


class GraphvizNotFound(RuntimeError):
    """Raised when a picture must be rendered but the Graphviz binaries are missing."""


def run_graphviz(source: str, fmt: str, engine: str = "dot", args: tuple[str, ...] = ()) -> bytes:
    """Run ``engine -T<fmt>`` on ``source`` and return its output bytes."""
    exe = shutil.which(engine)
    if exe is None:
        raise GraphvizNotFound(INSTALL_HINT)
    proc = subprocess.run([exe, f"-T{fmt}", *args], input=source.encode("utf-8"),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} -T{fmt} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


class Graph:
    """A drawn computation graph. ``.source`` is the DOT text; ``.svg()`` renders it."""

    def __init__(self, source: str, engine: str = "dot", engine_args: tuple[str, ...] = ()) -> None:
        self.source = source
        self.engine = engine
        self.engine_args = engine_args
        self._svg: str | None = None

    def __repr__(self) -> str:
        return f"<minigrad.viz.Graph: {self.source.count(chr(10))} lines of DOT>"

    def pipe(self, format: str = "svg") -> bytes:
        """Rendered bytes in ``format`` (svg, png, pdf) or the DOT text for 'dot'."""
        if format not in FORMATS:
            raise ValueError(f"Graph: unknown format {format!r}; choose one of {', '.join(FORMATS)}")
        if format == "dot":
            return self.source.encode("utf-8")
        return run_graphviz(self.source, format, self.engine, self.engine_args)

    def svg(self) -> str:
        """The picture as SVG text (needs Graphviz)."""
        if self._svg is None:
            self._svg = self.pipe("svg").decode("utf-8")
        return self._svg

    def save(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the picture; ``format`` defaults to the file's extension (svg if none)."""
        fmt = format or (Path(path).suffix.lstrip(".").lower() or "svg")
        if fmt == "gv":
            fmt = "dot"
        return atomic_write(path, self.pipe(fmt))

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self.svg()}
        except GraphvizNotFound:
            return {"text/plain": INSTALL_HINT + "\n\n" + self.source}
