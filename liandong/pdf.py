"""Render the print HTML into a PDF. The only module that imports WeasyPrint."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)


class ProjectFetcher(URLFetcher):
    """Lets WeasyPrint read only files inside the allowed folders.

    Only `file:` URLs without a host are served, and only after the path has been decoded
    (%2e%2e), made absolute and stripped of `..` and symbolic links: the file actually read is
    the resolved one, so a link cannot lead out of an allowed folder after the check. Every
    other scheme (http, https, ftp, data, …) is refused before anything is opened, so there is
    no network access and no redirect to follow. Refused URLs are collected in `refused`; a file
    named inside an allowed folder that does not exist (a designer's typo) goes to `missing`.
    """

    def __init__(self, allowed: list[Path]):
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.allowed = [folder.resolve() for folder in allowed]
        self.refused: list[str] = []
        self.missing: list[str] = []

    def local_path(self, url: str) -> Path | None:
        """The real file an allowed URL names; None, with the URL noted, for anything else."""
        try:
            parts = urlsplit(url)
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
                return self._refuse(url)
            path = Path(unquote(parts.path, errors="strict"))
            if not path.is_absolute():
                return self._refuse(url)
            real = path.resolve()  # links that exist are followed; `..` is gone either way
        except (ValueError, OSError, RuntimeError):  # bad URL, NUL byte, link loop
            return self._refuse(url)
        if not any(real.is_relative_to(folder) for folder in self.allowed):
            return self._refuse(url)
        if not real.exists():
            self.missing.append(url)
            return None
        return real if real.is_file() else self._refuse(url)

    def _refuse(self, url: str) -> None:
        self.refused.append(url)
        return None

    def fetch(self, url, headers=None):
        path = self.local_path(url)
        if path is None:
            raise ValueError(f"refused by liandong: {url}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(),
                                  headers={"Content-Type": mime})


ARCHIVE_OPTIONS = {"pdf_variant": "pdf/a-2u", "pdf_tags": True}
"""The published PDF: PDF/A-2u (every glyph maps to Unicode, so the text can be searched and
copied for decades), tagged (structure tree, /MarkInfo) for screen readers. PDF/UA-1 cannot be
declared together with PDF/A in one WeasyPrint file, so the tags are there but not the claim."""

PRINT_SHOP_OPTIONS = {"pdf_version": "1.7", "pdf_identifier": True}
"""The print-shop PDF prints in CMYK, which PDF/A with an sRGB output intent forbids: a plain
PDF 1.7. pdf_identifier=True makes the file /ID a hash of the content, never random."""


class PdfRenderer:
    """One FontConfiguration per process, reused for every issue."""

    def __init__(self) -> None:
        self.font_config = FontConfiguration()

    def render(self, html: str, base: Path, allowed: list[Path], print_shop: bool = False) -> bytes:
        """The PDF's bytes. Identical input gives identical bytes: dates come from the HTML's
        dcterms meta (the issue date), the /ID and the font subset tags are content hashes."""
        fetcher = ProjectFetcher(allowed)
        document = weasyprint.HTML(string=html, base_url=str(base) + "/", url_fetcher=fetcher)
        options = PRINT_SHOP_OPTIONS if print_shop else ARCHIVE_OPTIONS
        data = document.write_pdf(font_config=self.font_config, **options)
        if fetcher.refused:
            logger.warning("已拒绝读取项目之外的资源：%s", "、".join(dict.fromkeys(fetcher.refused)))
        if fetcher.missing:
            logger.warning("找不到模板引用的文件：%s", "、".join(dict.fromkeys(fetcher.missing)))
        return data
