"""liandong: typesets the bulletin 联络动态 from YAML/Markdown sources."""

__version__ = "0.1.0"
