"""The `pinrec` command: one sub-command module per job, errors as one line and a non-zero exit."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Sequence

from campaign_tools.commands import (
    campaign,
    catalog,
    config,
    conversions,
    demo,
    doctor,
    events,
    invoke,
    migrate,
    package,
    permissions,
    recommender,
    role,
    segment,
    send,
    setup,
    smoke,
    suppression,
    templates,
)
from transformer.errors import PinrecError

COMMAND_MODULES = (
    catalog,
    config,
    invoke,
    migrate,
    demo,
    templates,
    role,
    permissions,
    recommender,
    setup,
    package,
    segment,
    send,
    suppression,
    events,
    campaign,
    conversions,
    doctor,
    smoke,
)

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a writer whose reader went away (`pinrec send status ... | head`)."""


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
    """Run one command. Expected failures end as one `pinrec: error:` line and exit status 1, never a traceback;
    a reader that stops reading (`| head`) ends the command quietly with EXIT_BROKEN_PIPE."""
    try:
        arguments = build_parser().parse_args(argv)
        status = int(arguments.run(arguments) or 0)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except PinrecError as error:
        print(f"pinrec: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as error:  # a path that cannot be read or written: the user's to fix, named in one line
        print(f"pinrec: error: {describe_os_error(error)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("pinrec: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def describe_os_error(error: OSError) -> str:
    """`Not a directory: build/x` (the reason, then the paths involved), or the error's own text."""
    paths = [str(path) for path in (error.filename, error.filename2) if path is not None]
    if error.strerror and paths:
        return f"{error.strerror}: {' -> '.join(paths)}"
    return error.strerror or str(error) or type(error).__name__


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush of what is still buffered fails no more."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        descriptor = os.open(os.devnull, os.O_WRONLY)
        os.dup2(descriptor, sys.stdout.fileno())
        os.close(descriptor)


if __name__ == "__main__":
    sys.exit(main())
