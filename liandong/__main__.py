"""Allows `python -m liandong`."""

from liandong.cli import main

main()
