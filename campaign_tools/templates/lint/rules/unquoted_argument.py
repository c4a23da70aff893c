"""unquoted-argument: a bare-word argument, read as a variable that has no value (found by lint_hazards)."""

from __future__ import annotations

from campaign_tools.templates.lint.report import Severity
from campaign_tools.templates.lint.rules import hazard_rule

ID = "unquoted-argument"
RULE = hazard_rule(ID, Severity.ERROR)
