"""if-number: `{{#if Metrics.X}}`, where 0 is false in handlebars.js but true in Pinpoint (found by lint_hazards)."""

from __future__ import annotations

from campaign_tools.templates.lint.report import Severity
from campaign_tools.templates.lint.rules import hazard_rule

ID = "if-number"
RULE = hazard_rule(ID, Severity.WARNING)
