"""Document metadata written after WeasyPrint: Info dates with their time zone, and the XMP packet.

WeasyPrint 70 writes the XMP with every namespace declared on rdf:RDF only and one
rdf:Description per property. That is legal RDF, but Apache PDFBox's xmpbox (and preflight
tools built on it) looks for the declarations on each rdf:Description and then reports the
PDF/A identification schema as missing. The packet is therefore written again here, from the
Info dictionary WeasyPrint made out of the print HTML (<title>, author, description, keywords,
dcterms dates), so Info and XMP agree by construction: one rdf:Description per schema, each
declaring its own namespaces, properties as elements, dates as full timestamps with the time
zone. The build record (see stack.py) goes into a liandong schema, described by a PDF/A
extension schema as PDF/A requires for any schema outside the predefined ones.

No WeasyPrint here: `check` reads records back with read_record.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from liandong import __version__

if TYPE_CHECKING:
    import pikepdf

CREATOR = f"liandong {__version__}"
"""Info /Creator and xmp:CreatorTool: the program that made the document from its sources."""

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "pdf": "http://ns.adobe.com/pdf/1.3/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
    "liandong": "http://ns.liandong.invalid/xmp/build/1.0/",
}
"""The liandong namespace is a name, not an address (.invalid never resolves)."""

RECORD_PROPERTY = "build"
"""liandong:build: the build record as compact JSON (stack.py)."""

PDF_DATE = re.compile(
    r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:([Zz+-])(?:(\d{2})'?(\d{2})?'?)?)?$"
)


def parse_pdf_date(value: str) -> tuple[str, str] | None:
    """A PDF date string as (PDF form, XMP form), both normalised:
    D:20240830000000+08'00' and 2024-08-30T00:00:00+08:00; a date alone stays a date."""
    match = PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, sign, tz_hour, tz_minute = match.groups()
    month, day = month or "01", day or "01"
    if hour is None:
        return f"D:{year}{month}{day}", f"{year}-{month}-{day}"
    minute, second = minute or "00", second or "00"
    pdf = f"D:{year}{month}{day}{hour}{minute}{second}"
    xmp = f"{year}-{month}-{day}T{hour}:{minute}:{second}"
    if sign in ("Z", "z"):
        return pdf + "Z", xmp + "Z"
    if sign:
        tz_hour, tz_minute = tz_hour or "00", tz_minute or "00"
        return f"{pdf}{sign}{tz_hour}'{tz_minute}'", f"{xmp}{sign}{tz_hour}:{tz_minute}"
    return pdf, xmp


def normalise_info(pdf: pikepdf.Pdf) -> dict[str, str]:
    """Info with dates in their full form and /Creator set; returns the XMP forms of the dates."""
    import pikepdf

    info = pdf.docinfo
    info[pikepdf.Name.Creator] = pikepdf.String(CREATOR)
    dates = {}
    for key in ("/CreationDate", "/ModDate"):
        if key in info:
            parsed = parse_pdf_date(str(info[key]))
            if parsed is None:
                del info[key]
                continue
            info[key] = pikepdf.String(parsed[0])
            dates[key] = parsed[1]
    return dates


def _text(value: str) -> str:
    return escape(value)


def _description(prefixes: tuple[str, ...], body: list[str]) -> str:
    """One rdf:Description declaring the namespaces of everything in it."""
    declarations = " ".join(f'xmlns:{prefix}="{NS[prefix]}"' for prefix in prefixes)
    return (
        f'<rdf:Description rdf:about="" {declarations}>\n'
        + "".join(f"  {line}\n" for line in body)
        + "</rdf:Description>\n"
    )


def _extension_schema() -> str:
    """The PDF/A extension schema that describes liandong:build (ISO 19005-1, 6.7.8)."""
    return _description(
        ("pdfaExtension", "pdfaSchema", "pdfaProperty"),
        [
            '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">',
            "<pdfaSchema:schema>liandong build record</pdfaSchema:schema>",
            f"<pdfaSchema:namespaceURI>{NS['liandong']}</pdfaSchema:namespaceURI>",
            "<pdfaSchema:prefix>liandong</pdfaSchema:prefix>",
            '<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">',
            f"<pdfaProperty:name>{RECORD_PROPERTY}</pdfaProperty:name>",
            "<pdfaProperty:valueType>Text</pdfaProperty:valueType>",
            "<pdfaProperty:category>internal</pdfaProperty:category>",
            "<pdfaProperty:description>What the document was built with, as JSON: liandong, "
            "WeasyPrint, Pango, HarfBuzz and fontconfig versions, and the SHA-256 of each font "
            "file</pdfaProperty:description>",
            "</rdf:li></rdf:Seq></pdfaSchema:property>",
            "</rdf:li></rdf:Bag></pdfaExtension:schemas>",
        ],
    )


def xmp_packet(
    info: dict[str, str],
    dates: dict[str, str],
    part: int,
    conformance: str,
    record: dict | None,
    language: str | None,
) -> bytes:
    """The XMP packet for an archival (PDF/A) document: Info's values, dates in XMP form."""
    parts = [
        _description(
            ("pdfaid",),
            [
                f"<pdfaid:part>{part}</pdfaid:part>",
                f"<pdfaid:conformance>{conformance}</pdfaid:conformance>",
            ],
        )
    ]
    dc = ["<dc:format>application/pdf</dc:format>"]
    if "/Title" in info:
        dc.append(
            '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">'
            f"{_text(info['/Title'])}</rdf:li></rdf:Alt></dc:title>"
        )
    if "/Author" in info:
        dc.append(
            f"<dc:creator><rdf:Seq><rdf:li>{_text(info['/Author'])}</rdf:li></rdf:Seq></dc:creator>"
        )
    if "/Subject" in info:
        dc.append(
            '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">'
            f"{_text(info['/Subject'])}</rdf:li></rdf:Alt></dc:description>"
        )
    if language:
        dc.append(
            f"<dc:language><rdf:Bag><rdf:li>{_text(language)}</rdf:li></rdf:Bag></dc:language>"
        )
    parts.append(_description(("dc",), dc))
    pdf = [
        f"<pdf:{key[1:]}>{_text(info[key])}</pdf:{key[1:]}>"
        for key in ("/Producer", "/Keywords")
        if key in info
    ]
    if pdf:
        parts.append(_description(("pdf",), pdf))
    xmp = (
        [f"<xmp:CreatorTool>{_text(info['/Creator'])}</xmp:CreatorTool>"]
        if "/Creator" in info
        else []
    )
    for key, name in (("/CreationDate", "CreateDate"), ("/ModDate", "ModifyDate")):
        if key in dates:
            xmp.append(f"<xmp:{name}>{dates[key]}</xmp:{name}>")
    if xmp:
        parts.append(_description(("xmp",), xmp))
    if record is not None:
        parts.append(_extension_schema())
        text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        parts.append(
            _description(
                ("liandong",),
                [f"<liandong:{RECORD_PROPERTY}>{_text(text)}</liandong:{RECORD_PROPERTY}>"],
            )
        )
    body = "".join(parts)
    packet = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        f'<rdf:RDF xmlns:rdf="{NS["rdf"]}">\n{body}</rdf:RDF>\n</x:xmpmeta>\n'
        '<?xpacket end="w"?>'
    )
    return packet.encode("utf-8")


def write_archival_metadata(
    pdf: pikepdf.Pdf, part: int, conformance: str, record: dict | None
) -> None:
    """Info normalised and the XMP packet replaced, in an open pikepdf document."""
    import pikepdf

    dates = normalise_info(pdf)
    info = {str(key): str(value) for key, value in pdf.docinfo.items()}
    language = str(pdf.Root.Lang) if "/Lang" in pdf.Root else None
    data = xmp_packet(info, dates, part, conformance, record, language)
    # Uncompressed, as PDF/A wants the packet readable by tools that do not parse PDF.
    pdf.Root.Metadata = pikepdf.Stream(
        pdf, data, Type=pikepdf.Name.Metadata, Subtype=pikepdf.Name.XML
    )


def read_record(data: bytes) -> dict | None:
    """The build record in a PDF's XMP, or None (no record, or not a readable PDF)."""
    import io
    import xml.etree.ElementTree as ElementTree

    import pikepdf

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            metadata = pdf.Root.get("/Metadata")
            if metadata is None:
                return None
            packet = metadata.read_bytes()
    except (pikepdf.PdfError, ValueError):
        return None
    try:
        root = ElementTree.fromstring(packet)
    except ElementTree.ParseError:
        return None
    element = root.find(f".//{{{NS['liandong']}}}{RECORD_PROPERTY}")
    if element is None or not element.text:
        return None
    try:
        record = json.loads(element.text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
