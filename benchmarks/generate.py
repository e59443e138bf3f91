"""Generate a synthetic liandong archive from the sample issue's text, for the benchmarks.

Usage: python benchmarks/generate.py DEST --issues N [--seed 1]

Writes a complete project at DEST: a copy of the repository's issues/series.yaml and N issues
under issues/<year>/<number>/ (issue.yaml and one to four articles 01.md ...), from 1995 on,
24 issues a year (期号 restarts every January, 总期号 is continuous, dates increase). The text is
the sample issue's own sentences (issues/2024/13: the 编者按 and the article), shuffled and
recombined deterministically from the seed; titles are built from phrases of the sample and the
issue's numbers in Chinese, so no two issues are alike. Each issue is sized for a target page
count drawn evenly from 2..8 (PAGES), using LINES_PER_PAGE and the overheads below, which were
calibrated against real `liandong build` output (see docs/benchmarks.md).

Importable: `generate(dest, n, seed) -> list[Generated]`. Depends on the standard library, PyYAML
and cn2an only (both liandong dependencies), never on tests/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import cn2an
import yaml

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "issues" / "2024" / "13"

FIRST_YEAR = 1995
PER_YEAR = 24
PAGES = range(2, 9)
"""Target page counts, drawn evenly."""

CHARS_PER_LINE = 28
LINES_PER_PAGE = 22
MASTHEAD_LINES = 7.0
"""Body lines the masthead takes on the first page (calibrated)."""
BANJI_LINES = 8.0
"""Body lines the 版记 takes at the foot of the last page (calibrated)."""
TITLE_LINES = 4.0
"""Body lines a title with its spacing takes; a subtitle adds SUBTITLE_LINES (calibrated)."""
SUBTITLE_LINES = 1.5
FILL = 0.5
"""Where in the target page the text should end: 0 = its top, 1 = its foot (calibrated)."""

_SPLIT = re.compile(r"[，。、；：？！“”‘’《》（）\s]+")


@dataclass(frozen=True)
class Generated:
    """One generated issue: where it is and what it was sized for."""

    folder: Path
    year: int
    number: int
    total: int
    date: dt.date
    target_pages: int
    titles: tuple[str, ...]


def sample_text(sample: Path = SAMPLE) -> tuple[list[str], list[str]]:
    """The sample's sentences (one per source line: the article body and the 编者按) and its
    title phrases (fragments between punctuation, 5 to 12 characters, no digits)."""
    issue = yaml.safe_load((sample / "issue.yaml").read_text(encoding="utf-8"))
    sentences = [line.strip() for line in str(issue.get("编者按", "")).splitlines() if line.strip()]
    phrases: list[str] = []
    for article in sorted(sample.glob("*.md")):
        _, front, body = article.read_text(encoding="utf-8").split("---", 2)
        for line in body.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                sentences.append(line)
        meta = yaml.safe_load(front) or {}
        phrases += [str(v) for v in meta.values()]
    fragments = []
    for text in sentences + phrases:
        for piece in _SPLIT.split(text):
            if 5 <= len(piece) <= 12 and not re.search(r"[0-9A-Za-z×]", piece):
                fragments.append(piece)
    return sentences, sorted(set(fragments))


def _lines(paragraph_chars: int) -> int:
    """Body lines of a paragraph: two characters of indent, 28 characters a line."""
    return math.ceil((paragraph_chars + 2) / CHARS_PER_LINE)


def _issue_date(year: int, number: int) -> dt.date:
    """Two issues a month: the 8th and the 22nd."""
    return dt.date(year, (number - 1) // 2 + 1, 8 if number % 2 else 22)


def _cn(n: int) -> str:
    return cn2an.an2cn(n)


def _yaml_block(text_lines: list[str]) -> str:
    return "".join(f"  {line}\n" for line in text_lines)


def make_issue(
    rng: random.Random,
    sentences: list[str],
    phrases: list[str],
    year: int,
    number: int,
    total: int,
    pages: int,
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The files of one issue (name -> text) sized for `pages` pages, and its titles."""
    budget = (pages - 1 + FILL) * LINES_PER_PAGE - MASTHEAD_LINES - BANJI_LINES
    note: list[str] = []
    if rng.random() < 0.6:
        note = rng.sample(sentences, rng.randint(1, 3))
        budget -= sum(_lines(len(s)) for s in note) + 1
    articles = max(1, min(4, rng.randint(1, pages // 2 + 1)))
    while articles > 1 and budget / articles < TITLE_LINES + 6:  # every article gets a body
        articles -= 1
    titles = []
    files: dict[str, str] = {}
    share = budget / articles
    for index in range(1, articles + 1):
        subject, topic = rng.sample(phrases, 2)
        title = f"{subject}{topic}（第{_cn(total)}期之{_cn(index)}）"
        titles.append(title)
        subtitle = rng.choice(phrases) if rng.random() < 0.5 else None
        left = share - TITLE_LINES - (SUBTITLE_LINES if subtitle else 0)
        paragraphs = []
        while left > 0 or not paragraphs:
            size = rng.randint(2, 6)
            chosen = [rng.choice(sentences) for _ in range(size)]
            lines = _lines(sum(len(s) for s in chosen))
            if lines > left + 2:  # shorten the last paragraph to what is left
                keep = []
                for s in chosen:
                    if _lines(sum(len(k) for k in keep) + len(s)) > left + 1:
                        break
                    keep.append(s)
                chosen = keep or chosen[:1]
                lines = _lines(sum(len(s) for s in chosen))
            paragraphs.append("\n".join(chosen))
            left -= lines
        front = f"---\n标题: {title}\n" + (f"副标题: {subtitle}\n" if subtitle else "") + "---\n"
        files[f"{index:02d}.md"] = front + "\n" + "\n\n".join(paragraphs) + "\n"
    head = (
        f"# 联络动态 {year} 年第 {number} 期（生成的测试稿件）\n期号: {number}\n"
        f"总期号: {total}\n日期: {_issue_date(year, number).isoformat()}\n状态: 已签发\n"
    )
    if note:
        head += "\n编者按: |\n" + _yaml_block(note)
    files["issue.yaml"] = head
    return files, tuple(titles)


def generate(
    dest: Path,
    n: int,
    seed: int = 1,
    *,
    pages: int | None = None,
    per_year: int = PER_YEAR,
    source: Path = REPO,
) -> list[Generated]:
    """Write a project of n issues at dest (created; issues/ must not exist yet).

    `pages` fixes every issue's target page count (for calibration); by default each issue draws
    its own from PAGES. `per_year` issues make a year (at most 24: two a month).
    """
    dest = Path(dest)
    issues = dest / "issues"
    issues.mkdir(parents=True)
    shutil.copy2(source / "issues" / "series.yaml", issues / "series.yaml")
    sentences, phrases = sample_text(source / "issues" / "2024" / "13")
    rng = random.Random(seed)
    made = []
    for i in range(n):
        year, number, total = FIRST_YEAR + i // per_year, i % per_year + 1, i + 1
        target = pages if pages is not None else rng.choice(PAGES)
        files, titles = make_issue(rng, sentences, phrases, year, number, total, target)
        folder = issues / str(year) / str(number)  # as `liandong new` names it: no leading zero
        folder.mkdir(parents=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        made.append(
            Generated(folder, year, number, total, _issue_date(year, number), target, titles)
        )
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="生成用于性能测试的合成档案（稿件取自样刊第 13 期）。"
    )
    parser.add_argument("dest", type=Path, help="目标文件夹（其中不能已有 issues/）")
    parser.add_argument("--issues", type=int, default=720, help="期数（默认 720）")
    parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
    parser.add_argument(
        "--pages", type=int, default=None, help="每期的目标页数（校准用；默认 2—8 均匀分布）"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="生成后用 liandong build --all 排出全部各期，列出目标页数与实际页数",
    )
    args = parser.parse_args(argv)
    if (args.dest / "issues").exists():
        parser.error(f"{args.dest / 'issues'} 已经存在")
    made = generate(args.dest, args.issues, args.seed, pages=args.pages)
    print(
        f"已生成 {len(made)} 期：{made[0].year}—{made[-1].year} 年，{args.dest / 'issues'}",
        file=sys.stderr,
    )
    if args.verify:
        verify(args.dest, made)
    return 0


def verify(dest: Path, made: list[Generated]) -> None:
    """Build every issue with the installed liandong and print target vs actual page counts."""
    import collections
    import subprocess

    exe = Path(sys.executable).with_name("liandong")
    out = dest / "verify"
    subprocess.run(
        [str(exe if exe.exists() else "liandong"), "build", "--all", "--out", str(out)],
        cwd=dest,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    actual = collections.Counter()
    hits = 0
    for item in made:
        info = subprocess.run(
            ["pdfinfo", str(out / f"{item.year}-{item.number:02d}.pdf")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
        actual[pages] += 1
        hits += pages == item.target_pages
    print(f"页数与目标相同：{hits}/{len(made)} 期")
    for pages in sorted(actual):
        print(f"{pages} 页：{actual[pages]} 期")


if __name__ == "__main__":
    sys.exit(main())
