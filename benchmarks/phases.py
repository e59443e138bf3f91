"""Where the time of one issue goes: a cold `liandong build 13` and a warm re-render, phase by phase.

    .venv/bin/python benchmarks/phases.py [--runs 5] [--issue 13] [--project .]

Each run is a fresh process (the cold phases include the imports they trigger); the warm phases
are measured in that same process after the first render. Prints medians in milliseconds.
Complements `benchmarks/run.py`, which times whole commands; use pyinstrument for detail:
`.venv/bin/pyinstrument -m liandong.cli build 13`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

PHASES = """
import json, sys, time
t = [("start", time.perf_counter())]
def mark(name): t.append((name, time.perf_counter()))
from pathlib import Path
import liandong.cli  # what every command pays: click and the CLI
mark("CLI imports")
from liandong import build as B
from liandong.fonts import resolve_fonts
from liandong.project import select_folders
mark("liandong imports")
root = Path(sys.argv[1]).resolve()
fonts = resolve_fonts(root / "fonts")
mark("font resolution (fc-list)")
r = B.IssueRenderer(root, fonts)
(issue, ctx), = r.load(select_folders(root, sys.argv[2], False), [])
mark("load: sources, line breaking, glyph check")
html, web, _ = r.pages(issue, ctx)
mark("Jinja: print and web HTML")
import weasyprint
mark("import WeasyPrint")
from liandong.pdf import PdfRenderer, finish, ARCHIVE_OPTIONS
p = PdfRenderer()
allowed = r.allowed + [issue.folder]
def render(label):
    base = str(issue.folder) + "/"
    from liandong.pdf import ProjectFetcher
    page, sheets = p._style_sheets(html, base, ProjectFetcher(allowed))
    doc = weasyprint.HTML(string=page, base_url=base).render(stylesheets=sheets, font_config=p.font_config)
    mark(label + "WeasyPrint layout")
    data = doc.write_pdf(uncompressed_pdf=True, **ARCHIVE_OPTIONS)
    mark(label + "WeasyPrint PDF writing (fonts subset, PDF/A, tags)")
    data = finish(data)
    mark(label + "finishing: fonts compacted, tags, XMP, compression (pikepdf)")
    B._preflight("x.pdf", data, fonts)
    mark(label + "preflight")
render("")
t2 = len(t)
mark("warm start")
r.load(select_folders(root, sys.argv[2], False), [])
mark("warm: load")
r.pages(issue, ctx)
mark("warm: Jinja")
render("warm: ")
out = {}
for (a, ta), (b, tb) in zip(t, t[1:]):
    if b != "warm start":
        out[b] = (tb - ta) * 1000
out["cold total (in process)"] = (t[t2 - 1][1] - t[0][1]) * 1000
out["warm total"] = (t[-1][1] - t[t2][1]) * 1000
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--issue", default="13")
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parent.parent)
    args = parser.parse_args()
    runs = []
    for _ in range(args.runs):
        done = subprocess.run(
            [sys.executable, "-c", PHASES, str(args.project), args.issue],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    width = max(len(name) for name in runs[0])
    print(f"{'phase':<{width}}  median ms  (min–max, {args.runs} runs)")
    for name in runs[0]:
        values = [run[name] for run in runs]
        print(
            f"{name:<{width}}  {statistics.median(values):9.0f}  ({min(values):.0f}–{max(values):.0f})"
        )


if __name__ == "__main__":
    main()
