// MathJax 3, served from site/assets/mathjax (vendored from its npm package by build.py).
// The lessons write maths as $...$ and $$...$$ (Jupyter's convention); Markdown pages get
// \(...\) and \[...\] from pymdownx.arithmatex. Code, preformatted text and SVG are skipped, and
// so is mkdocs-jupyter's hidden copy of each code cell (what its copy button puts on the clipboard).
window.MathJax = {
  tex: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams"
  },
  options: {
    skipHtmlTags: ["script", "noscript", "style", "textarea", "pre", "code", "svg"],
    ignoreHtmlClass: "tex2jax_ignore|clipboard-copy-txt"
  }
};
