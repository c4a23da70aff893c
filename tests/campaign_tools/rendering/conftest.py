"""Fixtures for the rendering tests: a fixed clock and uuid, and the handlebars.js oracle."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from campaign_tools.rendering import PinpointRenderer
from tests.campaign_tools.rendering.oracle import HandlebarsOracle, require_oracle

FIXED_NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
FIXED_UUID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="session")
def renderer() -> PinpointRenderer:
    return PinpointRenderer(now=lambda: FIXED_NOW, uuid=lambda: FIXED_UUID)


@pytest.fixture(scope="session")
def oracle() -> Iterator[HandlebarsOracle]:
    """handlebars.js 4.7.8 under Node, started once per session.

    Without node or tests/oracle/node_modules the tests that use it skip and say how to install it;
    under CI (CI=true) a missing tool fails them instead.
    """
    require_oracle()
    process = HandlebarsOracle()
    yield process
    process.close()
