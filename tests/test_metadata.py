"""The archival PDF's Info and XMP: dates with their time zone, namespaces where xmpbox looks."""

from __future__ import annotations

import re

import pytest

from conftest import REPO, liandong, make_project

SERIES = "issues/series.yaml"


def _packet(pdf_path) -> bytes:
    import pikepdf

    with pikepdf.open(pdf_path) as doc:
        return doc.Root.Metadata.read_bytes()


def test_each_xmp_description_declares_the_namespaces_it_uses(sample_build):
    """Apache PDFBox's xmpbox reads the namespaces of an rdf:Description's properties from the
    rdf:Description itself; declared only on rdf:RDF, it reported the PDF/A schema missing."""
    from lxml import etree

    root = etree.fromstring(_packet(sample_build["pdf"]))
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    descriptions = root.findall(f".//{{{rdf}}}Description")
    assert len(descriptions) >= 4
    used_everywhere = set()
    for description in descriptions:
        parent = description.getparent()
        own = {uri for prefix, uri in description.nsmap.items() if parent.nsmap.get(prefix) != uri}
        used = {
            etree.QName(element).namespace
            for element in description.iterdescendants()
            if isinstance(element.tag, str)
        }
        used |= {
            etree.QName(name).namespace
            for element in description.iter()
            for name in element.attrib
            if "}" in name
        }
        used -= {rdf, "http://www.w3.org/XML/1998/namespace"}
        assert used <= own, (used - own, etree.tostring(description)[:200])
        used_everywhere |= used
    assert {
        "http://www.aiim.org/pdfa/ns/id/",
        "http://purl.org/dc/elements/1.1/",
        "http://ns.adobe.com/xap/1.0/",
    } <= used_everywhere


def test_pdfa_identification_is_written_as_elements(sample_build):
    packet = _packet(sample_build["pdf"]).decode("utf-8")
    assert "<pdfaid:part>2</pdfaid:part>" in packet
    assert "<pdfaid:conformance>U</pdfaid:conformance>" in packet


def test_the_series_time_zone_is_in_info_and_xmp(tmp_path):
    """时区: America/New_York in series.yaml: midnight of 30 August 2024 there is UTC−4."""
    import pikepdf

    series = (REPO / SERIES).read_text(encoding="utf-8") + "\n时区: America/New_York\n"
    project = make_project(tmp_path, overrides={SERIES: series})
    liandong("build", "13", cwd=project, check=True)
    with pikepdf.open(project / "build" / "2024-13.pdf") as doc:
        assert (
            str(doc.docinfo.CreationDate) == str(doc.docinfo.ModDate) == "D:20240830000000-04'00'"
        )
        meta = doc.open_metadata()
        assert meta["xmp:CreateDate"] == meta["xmp:ModifyDate"] == "2024-08-30T00:00:00-04:00"


@pytest.mark.parametrize(
    "written, expected",
    [
        ("D:20240830000000+08'00", ("D:20240830000000+08'00'", "2024-08-30T00:00:00+08:00")),
        ("D:20240830000000-04'00'", ("D:20240830000000-04'00'", "2024-08-30T00:00:00-04:00")),
        ("D:20240830120000Z", ("D:20240830120000Z", "2024-08-30T12:00:00Z")),
        ("D:20240830", ("D:20240830", "2024-08-30")),
        ("30 August", None),
    ],
)
def test_pdf_dates_are_normalised_for_info_and_xmp(written, expected):
    from liandong.metadata import parse_pdf_date

    assert parse_pdf_date(written) == expected


def test_xmp_is_well_formed_and_names_its_creator(sample_build):
    from lxml import etree

    from liandong import __version__

    packet = _packet(sample_build["pdf"])
    assert re.match(rb'<\?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"\?>', packet)
    root = etree.fromstring(packet)
    tool = root.find(".//{http://ns.adobe.com/xap/1.0/}CreatorTool")
    assert tool.text == f"liandong {__version__}"
