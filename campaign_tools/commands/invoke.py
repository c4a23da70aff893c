"""`pinrec invoke`: run the real transformer handler on an event file and print its response."""

from __future__ import annotations

import argparse

from campaign_tools.console import print_json
from campaign_tools.local_lambda import invoke_event_file


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "invoke",
        help="run the transformer Lambda handler in-process on an event file",
        description="Imports handlers.transformer as Lambda does (configuration read at cold start), calls "
        "lambda_handler with the event, and prints the response JSON. Logs and metrics go to stderr.",
    )
    parser.add_argument("--event", required=True, help="JSON file holding a Pinpoint transformer event")
    parser.add_argument("--config", help="pinrec.toml (default: $PINREC_CONFIG or ./pinrec.toml)")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> int:
    response = invoke_event_file(arguments.event, arguments.config)
    print_json(response)
    return 0
