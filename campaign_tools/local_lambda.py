"""Running the real Lambda handler in-process, as Lambda would: module import at cold start, then a call."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from transformer.config import CONFIG_ENV_VAR, config_path_from_environment
from transformer.errors import PinrecError

HANDLER_MODULE = "handlers.transformer"


@dataclass
class LocalContext:
    """The parts of the Lambda context object the handler and Powertools read."""

    timeout_seconds: float = 14.0
    function_name: str = "pinrec-transformer-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:pinrec-transformer-local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000), 0)


def read_event(path: str | os.PathLike[str]) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PinrecError(f"event file {path} not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PinrecError(f"cannot read event file {path}: {error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PinrecError(
            f"event file {path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None


def load_handler(config_path: str | os.PathLike[str]) -> ModuleType:
    """Import (or re-import, for another configuration) the handler module with `config_path` in effect."""
    config = str(Path(config_path).resolve())
    previous = os.environ.get(CONFIG_ENV_VAR)
    os.environ[CONFIG_ENV_VAR] = config
    try:
        loaded = sys.modules.get(HANDLER_MODULE)
        if loaded is not None and getattr(loaded, "_pinrec_config", None) == config:
            return loaded
        with contextlib.redirect_stdout(sys.stderr):
            if loaded is None:
                from handlers import transformer as module  # the import is the cold start: it reads `config`
            else:
                module = importlib.reload(loaded)
        module._pinrec_config = config  # type: ignore[attr-defined]
        return module
    finally:
        if previous is None:
            os.environ.pop(CONFIG_ENV_VAR, None)
        else:
            os.environ[CONFIG_ENV_VAR] = previous


def invoke(
    event: Any, config_path: str | os.PathLike[str], log: TextIO | None = None
) -> tuple[dict[str, Any], ModuleType]:
    """Call the real `lambda_handler`. Its logs and metrics go to `log` (default stderr), never to stdout."""
    module = load_handler(config_path)
    from transformer.observability import logger

    sink = log if log is not None else sys.stderr
    handlers = [handler for handler in logger.handlers if isinstance(handler, logging.StreamHandler)]
    streams = [handler.setStream(sink) for handler in handlers]
    try:
        with contextlib.redirect_stdout(sink):
            response = module.lambda_handler(event, LocalContext())
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)
    return response, module


def invoke_event_file(
    event_path: str | os.PathLike[str], config_path: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """`pinrec invoke`: the handler's response to the event in `event_path`, with `config_path` (default:
    $PINREC_CONFIG or ./pinrec.toml)."""
    event = read_event(event_path)
    response, _ = invoke(event, config_path or config_path_from_environment())
    return response
