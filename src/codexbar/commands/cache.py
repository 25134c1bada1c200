"""`codexbar cache clear`."""

from __future__ import annotations

import argparse

from codexbar.commands._common import Parser, write
from codexbar.errors import EXIT_OK


def build_parser(prog: str) -> Parser:
    parser = Parser(prog=prog, description="Manage cached snapshots.")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
    sub.add_parser("clear", help="remove every cached snapshot")
    return parser


def run(opts: argparse.Namespace) -> int:
    from codexbar import cache

    removed = cache.clear()
    write(f"Removed {removed} cached snapshot{'s' if removed != 1 else ''}.\n")
    return EXIT_OK
