"""Text widths from the Pango that WeasyPrint draws with: same library, fonts, features, spacing.

WeasyPrint lays out every inline box (one `<span>` of a typeset line) as its own PangoLayout:
the system's Pango 1.50 itemizes the text by script, derives each item's language (zh-CN for
Han and common marks, the script's own language for Latin), turns off ligatures when the
letter-spacing is not zero, and shapes each item with the system's HarfBuzz. Any other shaper
(uharfbuzz bundles a newer HarfBuzz, and knows nothing of Pango's items) measures "A—B", "——"
or "office" differently from what is printed. So widths are asked from Pango itself, through
the same calls WeasyPrint makes (`weasyprint/text/line_break.py`, `text/fonts.py`), with
ctypes: no WeasyPrint import (check must not load it) and no Python binding, since pangocffi
takes 0.14 s to import and cannot make the FreeType font map WeasyPrint uses.

Fonts are found as WeasyPrint finds them: installed ones by family name through the system
fontconfig configuration, project ones (fonts/) registered under their @font-face family with
the same fontconfig rules WeasyPrint writes for an @font-face.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

PANGO_SCALE = 1024
PX_PER_PT = 4 / 3
"""WeasyPrint works in CSS px; the templates write pt."""

_P = ctypes.c_void_p


class _Rectangle(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
    ]


_SIGNATURES = {
    "fontconfig": (
        ("FcInitLoadConfigAndFonts", _P, ()),
        ("FcConfigParseAndLoadFromMemory", ctypes.c_int, (_P, ctypes.c_char_p, ctypes.c_int)),
        ("FcConfigAppFontAddFile", ctypes.c_int, (_P, ctypes.c_char_p)),
    ),
    "pangoft2": (
        ("pango_ft2_font_map_new", _P, ()),
        ("pango_fc_font_map_set_config", None, (_P, _P)),
    ),
    "pango": (
        ("pango_font_map_create_context", _P, (_P,)),
        ("pango_context_set_round_glyph_positions", None, (_P, ctypes.c_int)),
        ("pango_context_set_base_dir", None, (_P, ctypes.c_int)),
        ("pango_language_from_string", _P, (ctypes.c_char_p,)),
        ("pango_context_set_language", None, (_P, _P)),
        ("pango_layout_new", _P, (_P,)),
        ("pango_layout_set_auto_dir", None, (_P, ctypes.c_int)),
        ("pango_font_description_new", _P, ()),
        ("pango_font_description_set_family", None, (_P, ctypes.c_char_p)),
        ("pango_font_description_set_weight", None, (_P, ctypes.c_int)),
        ("pango_font_description_set_absolute_size", None, (_P, ctypes.c_double)),
        ("pango_layout_set_font_description", None, (_P, _P)),
        ("pango_layout_set_text", None, (_P, ctypes.c_char_p, ctypes.c_int)),
        ("pango_attr_list_new", _P, ()),
        ("pango_attr_list_unref", None, (_P,)),
        ("pango_attr_list_insert", None, (_P, _P)),
        ("pango_attr_font_features_new", _P, (ctypes.c_char_p,)),
        ("pango_attr_letter_spacing_new", _P, (ctypes.c_int,)),
        ("pango_layout_set_attributes", None, (_P, _P)),
        ("pango_layout_get_line_readonly", _P, (_P, ctypes.c_int)),
        ("pango_layout_line_get_extents", None, (_P, _P, _P)),
    ),
}
_LIBRARIES = {
    "fontconfig": ("libfontconfig.so.1", "libfontconfig.1.dylib", "fontconfig"),
    "pangoft2": ("libpangoft2-1.0.so.0", "libpangoft2-1.0.dylib", "pangoft2-1.0"),
    "pango": ("libpango-1.0.so.0", "libpango-1.0.dylib", "pango-1.0"),
}


def _load(kind: str) -> ctypes.CDLL:
    from liandong.fonts import pin_fontconfig_language

    pin_fontconfig_language()  # before fontconfig is first loaded in this process
    error = None
    for name in _LIBRARIES[kind]:
        try:
            library = ctypes.CDLL(name)
            break
        except OSError as exc:
            error = exc
    else:
        raise OSError(f"{kind}: {error}")
    for name, restype, argtypes in _SIGNATURES[kind]:
        function = getattr(library, name)
        function.restype, function.argtypes = restype, list(argtypes)
    return library


class PangoShaper:
    """One Pango context and layout that measures spans exactly as WeasyPrint lays them out.

    `families` maps a style key to (CSS family, CSS weight); `faces` lists the project font
    files WeasyPrint loads through @font-face, as (file, family, weight)."""

    def __init__(self, faces: list[tuple[Path, str, int]], language: str = "zh-CN"):
        self.fc, self.pangoft2, self.pango = _load("fontconfig"), _load("pangoft2"), _load("pango")
        config = self.fc.FcInitLoadConfigAndFonts()
        for file, family, weight in faces:
            self._add_face(config, file, family, weight)
        self.font_map = self.pangoft2.pango_ft2_font_map_new()
        self.pangoft2.pango_fc_font_map_set_config(self.font_map, config)
        pango = self.pango
        context = pango.pango_font_map_create_context(self.font_map)
        pango.pango_context_set_round_glyph_positions(context, 0)
        pango.pango_context_set_base_dir(context, 0)  # PANGO_DIRECTION_LTR
        language_tag = pango.pango_language_from_string(language.encode())
        pango.pango_context_set_language(context, language_tag)
        self.context = context
        self.layout = pango.pango_layout_new(context)
        pango.pango_layout_set_auto_dir(self.layout, 0)
        self._descriptions: dict[tuple[str, int, float], int] = {}
        self._current: tuple | None = None

    def _add_face(self, config: int | None, file: Path, family: str, weight: int) -> None:
        """What WeasyPrint does for `@font-face { font-family: F; src: url(file); font-weight: W }`
        (weasyprint/text/fonts.py, add_font_face): a scan rule that prepends the family name
        and sets the weight, then the file added to the configuration."""
        fc_weight = _FONTCONFIG_WEIGHT.get(weight, 80)
        path = escape(file.as_posix())
        xml = (
            '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
            f'<fontconfig><match target="scan"><test name="file" compare="eq"><string>{path}'
            f'</string></test><edit name="family" mode="prepend"><string>{escape(family)}'
            f'</string></edit><edit name="weight" mode="assign_replace"><int>{fc_weight}</int>'
            "</edit></match></fontconfig>"
        )
        self.fc.FcConfigParseAndLoadFromMemory(config, xml.encode(), 1)
        self.fc.FcConfigAppFontAddFile(config, str(file).encode())

    def _description(self, family: str, weight: int, size: float) -> int:
        key = (family, weight, size)
        if key not in self._descriptions:
            pango = self.pango
            description = pango.pango_font_description_new()
            pango.pango_font_description_set_family(description, family.encode())
            pango.pango_font_description_set_weight(description, weight)
            pango.pango_font_description_set_absolute_size(
                description, float(int(size * PX_PER_PT * PANGO_SCALE))
            )
            self._descriptions[key] = description
        return self._descriptions[key]

    def width(
        self,
        family: str,
        weight: int,
        size: float,
        text: str,
        spacing: float = 0.0,
        features: str = "kern 1",
    ) -> float:
        """The width (pt) WeasyPrint gives an inline box holding text: Pango's logical width
        plus one letter-spacing (WeasyPrint's `line_size`), so spacing follows every character."""
        pango = self.pango
        spacing_px = spacing * PX_PER_PT
        state = (family, weight, size, spacing_px, features)
        if state != self._current:
            pango.pango_layout_set_font_description(
                self.layout, self._description(family, weight, size)
            )
            attributes = pango.pango_attr_list_new()
            pango.pango_attr_list_insert(
                attributes, pango.pango_attr_font_features_new(features.encode())
            )
            if spacing_px:
                pango.pango_attr_list_insert(
                    attributes, pango.pango_attr_letter_spacing_new(int(spacing_px * PANGO_SCALE))
                )
            pango.pango_layout_set_attributes(self.layout, attributes)
            pango.pango_attr_list_unref(attributes)
            self._current = state
        data = text.encode()
        pango.pango_layout_set_text(self.layout, data, len(data))
        extents = _Rectangle()
        line = pango.pango_layout_get_line_readonly(self.layout, 0)
        pango.pango_layout_line_get_extents(line, None, ctypes.byref(extents))
        return (extents.width / PANGO_SCALE + spacing_px) / PX_PER_PT


def escape(text: str) -> str:
    """Text for a fontconfig XML string (xml.sax.saxutils would import urllib: 0.13 s)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_FONTCONFIG_WEIGHT = {
    100: 0,
    200: 40,
    300: 50,
    400: 80,
    500: 100,
    600: 180,
    700: 200,
    800: 205,
    900: 210,
}
"""CSS weight → fontconfig weight, as WeasyPrint's FONTCONFIG_WEIGHT."""
