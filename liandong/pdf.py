"""Render the print HTML into a PDF. The only module that imports WeasyPrint."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)


class ProjectFetcher(URLFetcher):
    """Lets WeasyPrint read only files inside the allowed folders: no network, no redirects."""

    def __init__(self, allowed: list[Path]):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.allowed = [folder.resolve() for folder in allowed]
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(unquote(parts.path)).resolve()
            if any(path.is_relative_to(folder) for folder in self.allowed) and path.is_file():
                return super().fetch(url, headers)
        self.refused.append(url)
        raise ValueError(f"refused by liandong: {url}")


class PdfRenderer:
    """One FontConfiguration per process, reused for every issue."""

    def __init__(self) -> None:
        self.font_config = FontConfiguration()

    def render(self, html: str, base: Path, allowed: list[Path]) -> bytes:
        fetcher = ProjectFetcher(allowed)
        document = weasyprint.HTML(string=html, base_url=str(base) + "/", url_fetcher=fetcher)
        data = document.write_pdf(font_config=self.font_config)
        if fetcher.refused:
            logger.warning("已拒绝读取项目之外的资源：%s", "、".join(fetcher.refused))
        return data
