"""The benchmark suite's generator and runner (benchmarks/): what they make, never how fast."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO, liandong

sys.path.insert(0, str(REPO / "benchmarks"))
import itertools

import generate  # benchmarks/ is not a package


def _issues(root: Path) -> list[tuple[Path, dict]]:
    folders = sorted(p.parent for p in (root / "issues").glob("*/*/issue.yaml"))
    return [(f, yaml.safe_load((f / "issue.yaml").read_text(encoding="utf-8"))) for f in folders]


def _titles(folder: Path) -> list[str]:
    return [
        yaml.safe_load(md.read_text(encoding="utf-8").split("---", 2)[1])["标题"]
        for md in sorted(folder.glob("*.md"))
    ]


def test_generated_archive_passes_check_and_numbers_like_a_real_one(tmp_path):
    made = generate.generate(tmp_path, 6, seed=3, per_year=4)
    issues = _issues(tmp_path)
    assert len(made) == len(issues) == 6
    result = liandong("check", "--all", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "检查了 6 期：没有发现问题。" in result.stderr + result.stdout

    numbers = [(f.parent.name, meta["期号"]) for f, meta in issues]
    assert numbers == [("1995", 1), ("1995", 2), ("1995", 3), ("1995", 4), ("1996", 1), ("1996", 2)]
    assert [meta["总期号"] for _, meta in issues] == [1, 2, 3, 4, 5, 6]
    dates = [meta["日期"] for _, meta in issues]
    assert all(isinstance(d, dt.date) for d in dates)
    assert all(a < b for a, b in itertools.pairwise(dates))

    titles = [t for f, _ in issues for t in _titles(f)]
    assert len(titles) == len(set(titles))
    texts = [b"".join(p.read_bytes() for p in sorted(f.iterdir())) for f, _ in issues]
    assert len(set(texts)) == len(texts)
    assert all(1 <= len(list(f.glob("*.md"))) <= 4 for f, _ in issues)


def test_the_generator_is_deterministic_for_a_seed(tmp_path):
    one, two, other = tmp_path / "one", tmp_path / "two", tmp_path / "other"
    generate.generate(one, 3, seed=5)
    generate.generate(two, 3, seed=5)
    generate.generate(other, 3, seed=6)

    def files(root):
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert files(one) == files(two)
    assert files(one) != files(other)


def test_the_generator_uses_the_sample_text(tmp_path):
    made = generate.generate(tmp_path, 2, seed=1)
    sample = (REPO / "issues" / "2024" / "13" / "01.md").read_text(encoding="utf-8")
    body = (made[0].folder / "01.md").read_text(encoding="utf-8").split("---", 2)[2]
    sentences = [line for line in body.splitlines() if line.strip()]
    assert sentences and all(
        s in sample or s in (REPO / "issues/2024/13/issue.yaml").read_text(encoding="utf-8")
        for s in sentences
    )


def test_run_help_works():
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "--quick" in result.stdout and "--markdown" in result.stdout
