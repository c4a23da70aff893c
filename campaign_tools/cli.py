"""The `pinrec` command: one sub-command module per job, errors as one line and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from campaign_tools.commands import (
    catalog,
    config,
    demo,
    invoke,
    package,
    permissions,
    recommender,
    role,
    send,
    setup,
    templates,
)
from transformer.errors import PinrecError

COMMAND_MODULES = (catalog, config, invoke, demo, templates, role, permissions, recommender, setup, package, send)

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pinrec",
        description="Personalized messages from recommendations: catalogs, the Pinpoint transformer, templates.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return int(arguments.run(arguments) or 0)
    except PinrecError as error:
        print(f"pinrec: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("pinrec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
