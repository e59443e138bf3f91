"""Print the layout figures of a built issue PDF, measured as the tests measure them.

Usage: .venv/bin/python scripts/measure_layout.py [build/2024-13.pdf]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import itertools

from pdfmeasure import BOTTOM, MM, PITCH, TOP, ink_rows, lines, rules, text_left, text_right


def main(pdf: Path) -> None:
    all_lines = lines(pdf)
    grid = [
        l
        for l in all_lines
        if abs(l.size - 16) < 0.01
        and min(abs(l.x0 - text_left(l.page)), abs(l.x0 - text_left(l.page) - 2 * PITCH)) < 0.1 * MM
        and not (l.page == 1 and l.baseline < 100 * MM)
    ]
    flush = [
        (a.x1 - text_right(a.page)) / MM
        for a, b in itertools.pairwise(grid)
        if abs(b.x0 - text_left(b.page)) < 0.1 * MM
    ]
    print(f"flush lines: {len(flush)}, right edge off by at most {max(map(abs, flush)):.3f} mm")
    page2 = [l for l in grid if l.page == 2]
    top = ink_rows(pdf, 2, (text_left(2), 20 * MM, text_right(2), page2[0].baseline + 2))[0]
    pitch = (page2[1].baseline - page2[0].baseline) / MM
    print(
        f"page 2: first line's ink top {top / MM:.2f} mm, {len(page2)} lines, pitch {pitch:.3f} mm"
    )
    for page in (2, 3):
        left = min(l.x0 for l in grid if l.page == page) / MM
        print(f"page {page}: text starts {left:.2f} mm from the left edge")
    red = ink_rows(pdf, 1, (text_left(1), 20 * MM, text_right(1), 80 * MM), color="red")
    print(f"masthead: red ink from {red[0] / MM:.2f} to {red[1] / MM:.2f} mm")
    for t, b, l, r in rules(pdf, 1, TOP, 150 * MM, color="red"):
        print(f"red rule: at {t / MM:.2f} mm, {b - t:.2f} pt thick, {l / MM:.2f}–{r / MM:.2f} mm")
    last = max(l.page for l in all_lines)
    found = rules(pdf, last, TOP, BOTTOM + 5 * MM)
    print(
        "版记 rules (top mm / thickness mm): "
        + ", ".join(f"{t / MM:.2f}/{(b - t) / MM:.2f}" for t, b, _, _ in found)
    )
    for line in all_lines:
        if re.fullmatch(r"— \d+ —", line.text):
            dash = line.chars[0]
            ink = ink_rows(
                pdf,
                line.page,
                (dash["x0"] + 2, dash["top"] - 5, dash["x1"] - 2, dash["bottom"] + 5),
            )
            inset = (
                text_right(line.page) - line.x1 if line.page % 2 else line.x0 - text_left(line.page)
            ) / MM
            print(
                f"folio {line.text}: dash top {(ink[0] - BOTTOM) / MM:.2f} mm below the text "
                f"area, {inset:.2f} mm in from the outer edge"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/2024-13.pdf"))
