"""Build every issue of the corpus (tests/corpus) and print what the measure found.

Usage: .venv/bin/python scripts/measure_corpus.py [--out DIR] [--details] [PROJECT]

One line per issue (pages, where the body ends, the 版记's page, the worst visible-edge and
grid errors, the widest stretch, the notices and the criteria it fails), then the figures for
the whole corpus: the worst visible-edge error, the worst grid error, the number of notices and
the build time. --details lists every failure. The measure is tests/measure.py, the same one
tests/test_corpus.py applies. Exit status 1 when any issue fails a criterion.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from measure import CRITERIA, build_corpus, load_title_words, measure_built  # noqa: E402 - after tests/ is on sys.path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", nargs="?", type=Path, default=REPO / "tests" / "corpus")
    parser.add_argument("--out", type=Path, help="also write each PDF into this folder")
    parser.add_argument("--details", action="store_true", help="list every failure")
    args = parser.parse_args(argv)

    built, general, build_seconds = build_corpus(args.project, args.out)
    words = load_title_words(args.project / "title-words.yaml")
    started = time.perf_counter()
    results = {name: measure_built(args.project, item, words) for name, item in built.items()}
    measure_seconds = time.perf_counter() - started

    print(
        f"{'issue':8} {'pages':>5} {'ends':>6} {'版记':>4} {'edge mm':>8} {'grid mm':>8} "
        f"{'han em':>7} {'latin em':>8} {'notices':>7}  failing criteria"
    )
    for name, result in results.items():
        ends = f"{result.last_body[0]}:{result.last_body[1]}" if result.last_body else "-"
        failing = [f"{c}({len(result.of(c))})" for c in CRITERIA if result.of(c)]
        print(
            f"{name:8} {result.pages:5} {ends:>6} {result.banji_page or '-':>4} "
            f"{result.edge_error:8.2f} {result.grid_error:8.2f} {result.han_stretch:7.2f} "
            f"{result.latin_stretch:8.2f} {len(built[name].notices):7}  {' '.join(failing) or 'ok'}"
        )
        if args.details:
            for criterion in CRITERIA:
                for failure in result.of(criterion):
                    text = str(failure).replace("\n", "\n" + " " * 14)
                    print(f"    {criterion:8} {text}")
    notices = sum(len(item.notices) for item in built.values())
    failed = [name for name, result in results.items() if result.failures]
    print()
    print(f"issues: {len(results)}, meeting the measure: {len(results) - len(failed)}")
    print(
        f"worst visible-edge error: {max(r.edge_error for r in results.values()):.2f} mm "
        f"(tolerance 0.20 mm)"
    )
    print(
        f"worst grid error: {max(r.grid_error for r in results.values()):.2f} mm "
        f"(tolerance 0.10 mm)"
    )
    print(
        f"widest stretch: {max(r.han_stretch for r in results.values()):.2f} em between "
        f"full-width glyphs, {max(r.latin_stretch for r in results.values()):.2f} em at Latin"
    )
    print(f"notices: {notices} for the issues, {len(general)} for the whole build")
    for notice in general:
        print(f"  {notice}")
    print(
        f"build time: {build_seconds:.1f} s for {len(results)} issues in one process "
        f"({build_seconds / max(1, len(results)):.2f} s an issue); measuring: "
        f"{measure_seconds:.1f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
