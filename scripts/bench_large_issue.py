"""Time a build of the largest issue the limits allow (liandong/limits.py: ISSUE_CHARS).

Usage: .venv/bin/python scripts/bench_large_issue.py
Makes a copy of issues/ in a temporary folder, adds articles of five 990-character paragraphs
(the sample's own text) until the issue is just under ISSUE_CHARS, builds it with the installed
command, and prints the wall time, peak memory and page count.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from liandong import limits

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copytree(REPO / "issues", root / "issues")
        folder = root / "issues" / "2024" / "13"
        sample = (folder / "01.md").read_text(encoding="utf-8").split("---", 2)[2]
        paragraph = (re.sub(r"\s", "", sample) * 5)[:990]
        total, n = 6_000, 2  # the sample's own articles and note, roughly
        while total + 5 * 990 + 10 < limits.ISSUE_CHARS and n <= limits.ARTICLES:
            body = "\n\n".join([paragraph] * 5)
            (folder / f"{n:02d}.md").write_text(
                f"---\n标题: 第{n}篇文章\n---\n\n{body}\n", encoding="utf-8"
            )
            total, n = total + 5 * 990 + 5, n + 1
        exe = Path(sys.executable).with_name("liandong")
        start = time.perf_counter()
        result = subprocess.run(
            [str(exe), "build", "13", "--out", str(root / "out")],
            cwd=root,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
        if result.returncode:
            sys.exit(result.stderr)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        pages = subprocess.run(
            ["pdfinfo", str(root / "out" / "2024-13.pdf")], capture_output=True, text=True
        ).stdout
        count = re.search(r"Pages:\s+(\d+)", pages).group(1)
        print(
            f"{n - 2} added articles, about {total} characters: {elapsed:.1f} s, "
            f"{rss:.0f} MB peak, {count} pages"
        )


if __name__ == "__main__":
    main()
