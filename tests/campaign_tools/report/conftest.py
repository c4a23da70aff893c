"""Fixtures of the report tests; Chromium as the template browser test finds it."""

from tests.campaign_tools.templates.conftest import chromium  # noqa: F401 - the shared Chromium fixture
