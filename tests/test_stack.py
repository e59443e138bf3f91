"""What an issue was built with: recorded beside its outputs and in its XMP, compared by
`check` and `build`, and part of the site's cache key."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, liandong, make_project
from liandong.fonts import resolve_fonts

RECORD = "2024-13.build.json"
FONT = "fonts/KaiTi.ttf"


def _kai_font(path: Path, revision: float) -> None:
    """A 楷体 for the project's fonts/ folder: the installed Kai font cut down to the sample's
    characters and named KaiTi, so that it fills the kai role; each revision is another
    version of the same file. Written to a new file and renamed into place, as tools do."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    kai = resolve_fonts(REPO / "fonts")["kai"]
    font = TTFont(kai.file, fontNumber=kai.index)
    text = (
        "".join(
            p.read_text(encoding="utf-8")
            for p in sorted((REPO / "issues").rglob("*"))
            if p.is_file()
        )
        + "0123456789【】：，。"
    )
    options = subset.Options()
    options.name_IDs = ["*"]
    options.layout_features = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    names = font["name"]
    names.names = [record for record in names.names if record.nameID not in (1, 4, 6, 16, 17)]
    for name_id in (1, 4, 6):
        names.setName("KaiTi", name_id, 3, 1, 0x409)
    font["head"].fontRevision = revision
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    font.save(temporary)
    os.replace(temporary, path)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_build_records_its_stack_beside_the_outputs_and_in_the_xmp(sample_build):
    from liandong.metadata import read_record

    record = json.loads((sample_build["out"] / RECORD).read_text(encoding="utf-8"))
    assert read_record((sample_build["pdf"]).read_bytes()) == record
    from liandong import __version__

    assert record["liandong"] == __version__
    # The libraries' versions as Debian installed them (an independent source).
    for key, package in (
        ("pango", "libpango-1.0-0"),
        ("harfbuzz", "libharfbuzz0b"),
        ("fontconfig", "libfontconfig1"),
    ):
        installed = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", package],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert installed.split("-")[0].split("+")[0] == record[key], key
    import weasyprint

    assert record["weasyprint"] == weasyprint.__version__
    # Every role's font file by name and content, its bold face too.
    for key, font in resolve_fonts(REPO / "fonts").items():
        entry = record["fonts"][key]
        assert (entry["file"], entry["index"], entry["family"]) == (
            font.file.name,
            font.index,
            font.family,
        )
        assert entry["sha256"] == _sha(font.file)
        if font.bold:
            assert record["fonts"][f"{key}/bold"]["sha256"] == _sha(font.bold[0])
    # No trace of the machine's folders: file names only.
    assert "/" not in "".join(entry["file"] for entry in record["fonts"].values())


@pytest.fixture
def swapped(tmp_path_factory):
    """A project built with KaiTi.ttf version 1, whose font file is then replaced by version 2.
    One per test: test_build_says_so_once… builds again, which records the new font, and the
    check test must see the record of the first build whatever order they run in."""
    project = make_project(tmp_path_factory.mktemp("swapped"))
    _kai_font(project / FONT, 1.0)
    first = liandong("build", "13", cwd=project, check=True)
    old = _sha(project / FONT)
    _kai_font(project / FONT, 2.0)
    return project, old, _sha(project / FONT), first


def _warning(old: str, new: str) -> str:
    return (
        f"楷体（编者按、副标题、（一）级标题）字体文件 KaiTi.ttf 换了版本"
        f"（SHA-256 {old[:12]}… → {new[:12]}…）"
    )


def test_check_warns_when_a_font_file_is_another_version(swapped):
    project, old, new, first = swapped
    assert "上次生成时" not in first.stderr  # nothing to compare with on the first build
    record = json.loads((project / "build" / RECORD).read_text(encoding="utf-8"))
    assert record["fonts"]["kai"]["sha256"] == old
    result = liandong("check", "13", cwd=project)
    assert result.returncode == 0, result.stdout
    assert (
        f"issues/2024/13/issue.yaml:1:1: 注意：本期上次生成时（build/{RECORD}）的排版环境与"
        f"现在不同，现在重新生成，换行和分页可能与那时不同：{_warning(old, new)}"
        in result.stdout.splitlines()
    )
    assert result.stdout.splitlines()[-1] == "检查了 2024 年第 13 期：0 处错误，1 处提醒。"


def test_build_says_so_once_and_records_the_new_stack(swapped):
    project, old, new, _ = swapped
    result = liandong("build", "13", cwd=project, check=True)
    warning = (
        f"注意：2024-13 上次生成时的排版环境与现在不同：{_warning(old, new)}。"
        "这次生成的换行和分页可能与上次不同，请核对后再发布。"
    )
    assert result.stderr.splitlines().count(warning) == 1
    assert result.stderr.count("上次生成时") == 1
    record = json.loads((project / "build" / RECORD).read_text(encoding="utf-8"))
    assert record["fonts"]["kai"]["sha256"] == new
    # Built again with this stack: nothing to say any more.
    assert "上次生成时" not in liandong("build", "13", cwd=project, check=True).stderr
    assert "上次生成时" not in liandong("check", "13", cwd=project, check=True).stdout


def test_layout_differences_name_versions_and_fonts():
    from liandong.stack import layout_differences

    old = {
        "liandong": "0.1.0",
        "weasyprint": "70.0",
        "pango": "1.50.12",
        "harfbuzz": "6.0.0",
        "fontconfig": "2.14.1",
        "uharfbuzz": "0.57.0 (HarfBuzz 15.0.0)",
        "python": "3.11.2",
        "packages": {"pikepdf": "10.18.0"},
        "fonts": {
            "body": {
                "family": "FandolFang",
                "file": "FandolFang-Regular.otf",
                "index": 0,
                "sha256": "a" * 64,
            },
            "title": {
                "family": "Noto Serif CJK SC",
                "file": "NotoSerifCJK-Bold.ttc",
                "index": 2,
                "sha256": "b" * 64,
            },
        },
    }
    new = json.loads(json.dumps(old))
    assert layout_differences(old, new) == []
    new["python"], new["packages"]["pikepdf"] = "3.11.9", "11.0.0"  # bytes, not the layout
    assert layout_differences(old, new) == []
    new["pango"] = "1.52.1"
    new["fonts"]["title"].update(family="方正小标宋简体", file="FZXBSJW.TTF", index=0)
    assert layout_differences(old, new) == [
        "Pango 1.50.12 → 1.52.1",
        "小标宋（标题）字体由 Noto Serif CJK SC（NotoSerifCJK-Bold.ttc）换成了 方正小标宋简体（FZXBSJW.TTF）",
    ]


def test_the_site_cache_key_follows_the_fonts_by_content(tmp_path, monkeypatch):
    """Another version of a font file with the same size and modification time (a copy that
    kept its date) still re-renders the site; so does another version of a library."""
    from liandong import stack
    from liandong.site import common_key

    project = make_project(tmp_path)
    _kai_font(project / FONT, 1.0)
    before = common_key(project, resolve_fonts(project / "fonts"))
    stat = (project / FONT).stat()
    _kai_font(project / FONT, 2.0)
    assert (project / FONT).stat().st_size == stat.st_size
    os.utime(project / FONT, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    after = common_key(project, resolve_fonts(project / "fonts"))
    assert after != before
    versions = stack.library_versions()
    monkeypatch.setattr(stack, "library_versions", lambda: {**versions, "pango": "1.99.0"})
    assert common_key(project, resolve_fonts(project / "fonts")) != after
