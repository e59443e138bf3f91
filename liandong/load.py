"""Load issues: their sources read and checked (source, validate), typeset into contexts (render)
and every printed character checked against its font (fonts.check_glyphs).

What `build` renders and what `check` reports come from the same `IssueLoader.load`, so check
refuses whatever build would, without rendering anything (no Jinja page, no WeasyPrint).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from liandong.errors import Problem
from liandong.fonts import Measurer, ResolvedFont, check_glyphs
from liandong.render import Context, build_context
from liandong.validate import Issue, load_issues


class IssueLoader:
    """Loads and checks issues, keeping the fonts' measurer (costly to set up) for the next."""

    def __init__(self, root: Path, fonts: dict[str, ResolvedFont]):
        self.root, self.fonts = root, fonts
        self.measurer = Measurer(fonts)

    def load(
        self, folders: list[Path], problems: list[Problem], notices: list[Problem] | None = None
    ) -> list[tuple[Issue, Context]]:
        """The issues' contexts; schema problems, text that cannot be set and missing glyphs go
        to problems; lines set past the spacing limits and the characters printed from a 补字
        font (each once per issue) to notices, when a list is given. A notice's message has no
        "注意：": check adds it, and build's log."""
        loaded = []
        for issue in load_issues(self.root, folders, problems):
            context = build_context(issue, self.fonts, self.measurer)
            problems += context.problems
            if notices is not None:
                notices += context.notices
            problems += check_glyphs(
                context.printed, self.fonts, _at_start(issue.sources[0].name), notices
            )
            loaded.append((issue, context))
        return loaded


def _at_start(name: str) -> Callable[[str], Problem]:
    """A problem at the first line of a file, for text printed from no place in it."""
    return lambda message: Problem(name, 1, 1, message)
