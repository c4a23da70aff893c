"""unknown-helper: a helper Pinpoint does not document (found by the renderer's lint_hazards)."""

from __future__ import annotations

from campaign_tools.templates.lint.report import Severity
from campaign_tools.templates.lint.rules import hazard_rule

ID = "unknown-helper"
RULE = hazard_rule(ID, Severity.ERROR)
