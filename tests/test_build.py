"""Building: per-issue values override the series, and the 版记 never meets the body text."""

from __future__ import annotations

import pytest

from conftest import liandong, make_project
from pdfmeasure import BOTTOM, MM, TEXT_H, TOP, lines, rules

ISSUE = "issues/2024/13/issue.yaml"
ARTICLE = "issues/2024/13/01.md"
LINE = TEXT_H / 22


def _issue_with(extra: str) -> str:
    from conftest import REPO

    return (REPO / ISSUE).read_text(encoding="utf-8") + extra


def test_issue_values_override_the_series(tmp_path):
    extra = "\n责任编辑: 李四\n报:\n  - 全国人大常委会代表工作委员会\n印数: 300\n"
    project = make_project(tmp_path, overrides={ISSUE: _issue_with(extra)})
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    text = [line.text for line in lines(project / "out" / "2024-13.pdf")]
    joined = "\n".join(text)
    assert "责任编辑：李四" in joined and "王小益" not in joined
    report = next(i for i, t in enumerate(text) if t.startswith("报："))
    send = next(i for i, t in enumerate(text) if t.startswith("送："))
    assert report < send  # 报 (superiors) prints before 送
    assert any("共印300份" in t for t in text)


def test_banji_never_overlaps_the_body_and_moves_when_it_does_not_fit(tmp_path):
    """Grow the article a paragraph at a time: wherever the body ends, the 版记 sits at the
    bottom of a text area below the last body line, or alone on the next page."""
    from conftest import REPO

    paragraph = "\n\n要强化协调配合，进一步完善有利于现代石化产业发展的高位推动工作机制。"
    outcomes = set()
    for extra in range(7):
        article = (REPO / ARTICLE).read_text(encoding="utf-8") + paragraph * extra
        project = make_project(tmp_path / str(extra), overrides={ARTICLE: article})
        liandong("build", "13", "--out", "out", cwd=project, check=True)
        pdf = project / "out" / "2024-13.pdf"
        all_lines = lines(pdf)
        last_page = max(line.page for line in all_lines)
        found = rules(pdf, last_page, TOP, BOTTOM + 5 * MM)
        assert len(found) == 4, extra
        assert found[-1][1] == pytest.approx(BOTTOM, abs=0.3 * MM)
        send = next(line for line in all_lines if line.text.startswith("送："))
        assert send.page == last_page
        body = [line for line in all_lines if abs(line.size - 16) < 0.01 and line.page == last_page]
        if body:
            assert max(line.baseline for line in body) + 3 < found[0][0]  # descenders clear
            outcomes.add("shares the page")
        else:
            before = [line for line in all_lines if abs(line.size - 16) < 0.01
                      and line.page == last_page - 1]
            assert before, "the 版记 moved, but the body does not end on the page before"
            # It moved only because it did not fit: one blank line above it, then its rules.
            needed = LINE + (BOTTOM - found[0][0])
            free = BOTTOM - max(line.baseline for line in before)
            assert free < needed, (extra, free / MM, needed / MM)
            outcomes.add("moved to the next page")
    assert outcomes == {"shares the page", "moved to the next page"}


def test_a_short_issue_keeps_its_banji_on_its_only_page(tmp_path):
    """No note and a one-line article: the 版记 fits under the body and must stay there."""
    from conftest import REPO

    article = (REPO / ARTICLE).read_text(encoding="utf-8")
    article = article[:article.index("---", 3) + 3] + "\n\n8月28日，省委书记主持召开会议。\n"
    issue = (REPO / ISSUE).read_text(encoding="utf-8")
    project = make_project(tmp_path, overrides={ARTICLE: article,
                                                ISSUE: issue[:issue.index("编者按")]})
    result = liandong("build", "13", "--out", "out", cwd=project, check=True)
    pdf = project / "out" / "2024-13.pdf"
    all_lines = lines(pdf)
    assert {line.page for line in all_lines} == {1}
    body_end = max(line.baseline for line in all_lines if abs(line.size - 16) < 0.01)
    found = rules(pdf, 1, body_end, BOTTOM + 5 * MM)  # below the body: not the masthead's red rule
    assert len(found) == 4
    assert found[-1][1] == pytest.approx(BOTTOM, abs=0.3 * MM)
    assert "共 1 页" in result.stderr  # an odd page count is only a warning


def test_lines_with_dashes_and_ellipses_stay_flush(tmp_path):
    """—— and …… are measured as Pango sets them inside Chinese text (full-width, Han script)."""
    from conftest import REPO
    from pdfmeasure import text_left, text_right

    sentences = [f"各承办单位要充分认识办理工作{'的' * k}重要意义——这是法定职责……不能敷衍。"
                 for k in range(12)]
    article = (REPO / ARTICLE).read_text(encoding="utf-8") + "\n\n" + "".join(sentences) + "\n"
    project = make_project(tmp_path, overrides={ARTICLE: article})
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    body = [l for l in lines(project / "out" / "2024-13.pdf") if abs(l.size - 16) < 0.01]
    marked = 0
    for line, following in zip(body, body[1:]):
        continues = (following.page == line.page
                     and abs(following.x0 - text_left(following.page)) < 0.1 * MM)
        if continues and ("——" in line.text or "……" in line.text):
            marked += 1
            assert abs(line.x1 - text_right(line.page)) <= 0.05 * MM, line.text
    assert marked >= 5


def test_bold_latin_is_measured_in_the_bold_face_and_stays_flush(tmp_path):
    """**strong** prints in the family's bold face, whose Latin letters are wider than the
    regular ones: lines with bold Latin text still end on the text area's right edge."""
    from conftest import REPO
    from pdfmeasure import text_left, text_right

    sentences = [f"会议强调，要把{'代表' * k}**APEC Business Advisory Council meeting**精神落到实处。"
                 for k in range(8)]
    article = (REPO / ARTICLE).read_text(encoding="utf-8") + "\n\n" + "".join(sentences) + "\n"
    project = make_project(tmp_path, overrides={ARTICLE: article})
    liandong("build", "13", "--out", "out", cwd=project, check=True)  # preflight: nothing sticks out
    body = [l for l in lines(project / "out" / "2024-13.pdf") if abs(l.size - 16) < 0.01]
    bold = 0
    for line, following in zip(body, body[1:]):
        continues = (following.page == line.page
                     and abs(following.x0 - text_left(following.page)) < 0.1 * MM)
        if continues and any(word in line.text for word in ("APEC", "Business", "Council")):
            bold += 1
            assert abs(line.x1 - text_right(line.page)) <= 0.05 * MM, line.text
    assert bold >= 4


MIXED = ("{pad}会议指出AVATAR与WAVE两个词、COVID-19和iPhone15以及Win11都要测准，"
         "Office里的ffi连字也一样。省人大常委会认真践行两个密切联系的重要指示要求。",
         "{pad}联系电话0731—85309270，时间2024—2025年，范围A—B与3—5项，"
         "省人大常委会认真践行两个密切联系的重要指示要求。",
         "{pad}网址：详见 https://www.hnrd.gov.cn/content/2024/08/30/article_12345.html?from=list&page=2，"
         "省人大常委会认真践行两个密切联系的重要指示要求，邮箱 hnrldgwxrc@163.com 也可以。",
         "{pad}He said the quick brown fox jumps over the lazy dog again and again today. "
         "省人大常委会认真践行两个密切联系的重要指示要求。")
"""Paragraphs of mixed text, shifted one character at a time by {pad}, so that their Latin
words, numbers, dashes and URLs fall at every place of a line."""


def test_mixed_text_ends_on_the_right_edge_as_drawn(tmp_path):
    """Latin words (kerned: AV), ligatures (ffi), dashes next to digits, URLs and spaces at
    line ends: every line that a paragraph continues ends, by its last visible glyph, within
    0.05 mm of the text area's edge. Before, such lines ended 0.6–4.7 mm short or stuck out,
    and two kerned words in a line failed the build at preflight."""
    from conftest import REPO
    from pdfmeasure import text_left, text_right

    paragraphs = [text.format(pad="的" * k) for k in range(6) for text in MIXED]
    article = (REPO / ARTICLE).read_text(encoding="utf-8") + "\n\n" + "\n\n".join(paragraphs) + "\n"
    project = make_project(tmp_path, overrides={ARTICLE: article})
    liandong("build", "13", "--out", "out", cwd=project, check=True)
    body = [l for l in lines(project / "out" / "2024-13.pdf") if abs(l.size - 16) < 0.01]
    checked = 0
    for line, following in zip(body, body[1:]):
        continues = (following.page == line.page
                     and abs(following.x0 - text_left(following.page)) < 0.1 * MM)
        if not continues or not any(c.isascii() and c.isalnum() for c in line.text):
            continue
        checked += 1
        edge = [c for c in line.chars if c["text"].strip()][-1]["x1"]
        assert abs(edge - text_right(line.page)) <= 0.05 * MM, (
            f"“{line.text}” ends {(edge - text_right(line.page)) / MM:+.2f} mm from the edge")
        assert not line.text.endswith(("0731—", "2024—", "A—", "3—")), line.text
    assert checked >= 20


def test_builds_are_byte_identical_across_folders_times_and_clocks(tmp_path):
    """Same sources → same bytes: another folder, a second later, another time zone and a
    SOURCE_DATE_EPOCH (which WeasyPrint ignores; dates come from the issue)."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import pikepdf

    exe = Path(sys.executable).with_name("liandong")
    outputs = []
    for index, env in enumerate(({"TZ": "UTC"},
                                 {"TZ": "Asia/Shanghai", "SOURCE_DATE_EPOCH": "1", "LANG": "C"})):
        project = make_project(tmp_path / f"project-{index}-{'x' * index}")
        if index:
            time.sleep(1.1)  # the clock has moved on: nothing may carry it
        subprocess.run([str(exe), "build", "13", "--print-shop"], cwd=project, check=True,
                       capture_output=True, env={**os.environ, **env})
        outputs.append({name: (project / "build" / name).read_bytes()
                        for name in ("2024-13.pdf", "2024-13-print.pdf", "2024-13.html")})
        # No trace of the project's folder anywhere, compressed streams included.
        for name in ("2024-13.pdf", "2024-13-print.pdf"):
            with pikepdf.open(project / "build" / name) as pdf:
                for obj in pdf.objects:
                    if isinstance(obj, pikepdf.Stream):
                        assert str(project).encode() not in obj.read_bytes()
        assert str(project) not in outputs[-1]["2024-13.html"].decode("utf-8")
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], name
