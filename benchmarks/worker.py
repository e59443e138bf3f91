"""Where an archive worker's time goes: N issues of a project rendered as `liandong site` renders
them (one warm SiteRenderer, PDF + page + preflight), timed phase by phase.

    .venv/bin/python benchmarks/worker.py PROJECT [--issues 40]

PROJECT is a liandong project, e.g. one made by `benchmarks/generate.py /tmp/a720 --issues 720`.
The first issue warms the process up (imports, first render) and is not counted.
"""

from __future__ import annotations

import argparse
import collections
import io
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--issues", type=int, default=40)
    args = parser.parse_args()

    import pikepdf
    import weasyprint
    import weasyprint.pdf.fonts

    import liandong.build as build
    import liandong.pdf as pdf
    from liandong.fonts import resolve_fonts
    from liandong.site import SiteRenderer
    from liandong.validate import issue_folders

    renderer = SiteRenderer(args.project, resolve_fonts(args.project / "fonts"))
    folders = issue_folders(args.project)[: args.issues + 1]
    nav = {"prev": None, "next": None}
    renderer.render(folders[0], nav)  # warm-up, not counted

    spent: collections.Counter = collections.Counter()

    def timed(owner, name: str, label: str) -> None:
        function = getattr(owner, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - start

        setattr(owner, name, wrapper)

    phases = [
        (build.IssueRenderer, "load", "liandong: sources, line breaking, glyph check"),
        (build.IssueRenderer, "pages", "liandong: Jinja (print and web HTML)"),
        (weasyprint.HTML, "render", "WeasyPrint: layout"),
        (weasyprint.document.Document, "write_pdf", "WeasyPrint: PDF writing"),
        (pdf, "finish", "liandong: finishing (fonts compacted, tags, XMP; pikepdf, uharfbuzz)"),
        (build, "_preflight", "liandong: preflight"),
    ]
    nested = (weasyprint.pdf.fonts.Font, "clean", "WeasyPrint: PDF writing, of it font subsetting")
    for owner, name, label in [*phases, nested]:
        timed(owner, name, label)

    pages, start = 0, time.perf_counter()
    for folder in folders[1:]:
        result = renderer.render(folder, nav)
        if result.pdf is None:
            raise SystemExit(f"{folder}: {result.problems or result.errors}")
        with pikepdf.open(io.BytesIO(result.pdf)) as document:
            pages += len(document.pages)
    total = time.perf_counter() - start
    count = len(folders) - 1
    print(
        f"{count} issues, {pages} pages ({pages / count:.1f} a issue): "
        f"{total / count * 1000:.0f} ms a issue on one core"
    )
    accounted = 0.0
    for _, _, label in phases:
        accounted += spent[label]
        print(f"  {label:<50} {spent[label] / count * 1000:5.0f} ms  {spent[label] / total:6.1%}")
        if label == "WeasyPrint: PDF writing":
            print(
                f"  {'  of it, WeasyPrint subsetting the fonts':<50} "
                f"{spent[nested[2]] / count * 1000:5.0f} ms  {spent[nested[2]] / total:6.1%}"
            )
    rest = total - accounted
    print(
        f"  {'other (site page metadata, counting pages)':<50} {rest / count * 1000:5.0f} ms  "
        f"{rest / total:6.1%}"
    )


if __name__ == "__main__":
    main()
