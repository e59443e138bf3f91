"""The documented limits on sources, in one place.

Sources are untrusted text: each limit keeps a build finite and fast, and every one is far above
what a real issue of 联络动态 needs (the sample issue 2024/13: 1 article, about 1,600 Chinese
characters, the longest paragraph about 480 characters, the longest line-long value 26). A source
over a limit stops the build with a message naming the limit, at the file (and line) where it is
exceeded. The README (“限制”) lists the same figures; tests/test_hostile.py checks each message.
"""

from __future__ import annotations

SOURCE_BYTES = 256 * 1024
"""Largest source file (series.yaml, issue.yaml, an article), in bytes: about 85,000 Chinese
characters, some 140 printed pages."""

ARTICLES = 50
"""Most articles (.md files) in one issue."""

ISSUE_CHARS = 120_000
"""Most characters of running text (titles, 编者按, body) in one issue: about 200 pages."""

PARAGRAPH_CHARS = 5_000
"""Longest paragraph or heading of the body or 编者按, in characters (about 9 printed pages)."""

TEXT_CHARS = 200
"""Longest one-line value: titles, subtitles, 刊名, 编印单位, each 版记 unit and so on."""

LIST_ITEMS = 100
"""Most units in one 版记 list (报, 送 or 发)."""

YAML_DEPTH = 20
"""Deepest nesting of lists and mappings in a YAML file (liandong's own files need 2)."""

PUNCTUATION_RUN = 20
"""Most punctuation marks in a row in a paragraph. No line may start or end between them, so a
longer run cannot be broken into lines (5,000 full stops took a minute to render)."""

FONT_BYTES = 64 * 1024 * 1024
"""Largest font file read from the project's fonts/ folder: more than twice the largest CJK font
on a Debian machine (Noto Serif CJK Bold, a collection of 27 MB; a licensed 仿宋_GB2312 is about
4 MB). A font is read whole to be checked (fonts.check_font_file)."""

IMPORT_TEXT_BYTES = 1024 * 1024
"""Largest text file `liandong import` reads: a whole issue at ISSUE_CHARS (120,000 characters,
360 KB in UTF-8) with the spaces and line breaks of extracted text, and room to spare. Checked
before the file is read."""

IMPORT_FILES = 2000
"""Most files one `liandong import` of a folder takes (the back catalogue of 联络动态 holds 714
issues, each a PDF or a Word file, maybe both)."""

DOCX_BYTES = 32 * 1024 * 1024
"""Largest .docx file `liandong import` reads (a Word file of an issue, pictures included)."""

DOCX_PART_BYTES = 16 * 1024 * 1024
"""Largest part of a .docx once decompressed (word/document.xml of the largest issue is a few
MB): a part that inflates past it, by its declared size or its real one, is refused before
python-docx reads it (a zip bomb took 3.2 GB)."""

DOCX_TOTAL_BYTES = 64 * 1024 * 1024
"""All parts of a .docx together, decompressed."""

DOCX_PARTS = 2000
"""Most parts (zip members) in a .docx."""

PDF_BYTES = 64 * 1024 * 1024
"""Largest PDF `liandong preflight` or `liandong import` reads (the sample issue's is 260 KB; 200
pages of text a few MB; a Word PDF with photos some MB more). Checked before the file is read."""

PDF_PAGES = 1000
"""Most pages preflight checks or import reads: ISSUE_CHARS makes about 200."""

PDF_OBJECTS = 500_000
"""Most objects in a PDF preflight or import reads (a tagged 200-page issue has tens of thousands)."""

PDF_DECODED_BYTES = 128 * 1024 * 1024
"""All streams of a PDF that preflight or import decodes (content, fonts, everything but images),
decompressed: a page whose content inflated to 1.5 GB used 3.2 GB and passed. Measured in
pieces before anything is parsed."""

IMAGE_BYTES = 20 * 1024 * 1024
"""Largest image file (JPEG or PNG) an article may print: a 24-megapixel camera's JPEG is
8–12 MB."""

IMAGE_PIXELS = 50_000_000
"""Most pixels in one image (checked from its header, before it is decoded): a decoded image
of this size takes 150 MB; 50 megapixels is more than any office camera gives."""

IMAGES = 50
"""Most figures in one issue."""

TABLE_COLUMNS = 12
"""Most columns in a table: 156 mm of 四号 text holds about 31 characters, so 12 columns of a
number each is already the most that fits."""

TABLE_ROWS = 200
"""Most body rows in a table (about 10 pages)."""

CELL_CHARS = 200
"""Longest text of a table cell, in characters."""
