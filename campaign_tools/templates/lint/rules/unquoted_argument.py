"""unquoted-argument: a bare-word argument (`tz=America/Los_Angeles`, `{{inflect 3 apple apples}}`), read as a variable
that has no value, so the template silently prints the wrong text; the finding names the quoted form (found by
lint_hazards)."""

from __future__ import annotations

from campaign_tools.templates.lint.report import Severity
from campaign_tools.templates.lint.rules import hazard_rule

ID = "unquoted-argument"
RULE = hazard_rule(ID, Severity.ERROR)
