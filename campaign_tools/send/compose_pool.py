"""Composing in worker processes: rendering is pure Python (about 8 ms per email), so one process tops out near
120 messages/s. `--compose-processes N` spreads each batch's composing over N processes, each with its own composer
built from the same options. Workers are spawned (not forked: the parent runs delivery threads)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from campaign_tools.channels.base import ComposeError, Message
from campaign_tools.send.compose import ComposerOptions, MessageComposer, make_composer

Composed = tuple[str, Message | str]
"""(endpoint id, the message, or the failure reason)."""

_worker_composer: MessageComposer | None = None


def compose_one(composer: MessageComposer, endpoint_id: str, endpoint: Mapping[str, Any]) -> Message | str:
    """The message, or the reason it cannot be made; one endpoint's problem never stops the campaign."""
    try:
        return composer.compose(endpoint_id, endpoint)
    except ComposeError as error:
        return error.reason
    except Exception as error:
        return f"compose_{type(error).__name__}"


def _exit_with_parent() -> None:
    """End this worker as soon as the sending process is gone (even SIGKILLed): no orphan keeps rendering."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)


def _start_worker(plugin: str | None, options: ComposerOptions) -> None:
    global _worker_composer  # noqa: PLW0603 - one composer per worker process, built once
    threading.Thread(target=_exit_with_parent, name="exit-with-parent", daemon=True).start()
    _worker_composer = make_composer(plugin, options)


def _compose_in_worker(entry: tuple[str, Mapping[str, Any]]) -> Composed:
    assert _worker_composer is not None, "the worker was started without a composer"
    endpoint_id, endpoint = entry
    return endpoint_id, compose_one(_worker_composer, endpoint_id, endpoint)


class ComposerPool:
    """Implements `compose_many` over worker processes, in the order given."""

    def __init__(self, plugin: str | None, options: ComposerOptions, processes: int) -> None:
        if processes < 2:
            raise ValueError("a composer pool needs at least 2 processes")
        self._executor = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(plugin, options),
        )

    def compose_many(self, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Composed]:
        return list(self._executor.map(_compose_in_worker, entries, chunksize=max(len(entries) // 8, 1)))

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class InlineComposer:
    """Implements `compose_many` in this process with one composer."""

    def __init__(self, composer: MessageComposer) -> None:
        self.composer = composer

    def compose_many(self, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Composed]:
        return [(endpoint_id, compose_one(self.composer, endpoint_id, endpoint)) for endpoint_id, endpoint in entries]

    def close(self) -> None:
        return None
