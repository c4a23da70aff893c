"""What lint reports: findings with their severity, file and line, and the report for one template."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from campaign_tools.templates.build import BuiltTemplate

Place = tuple[int, ...]
"""Where in the lint walk a finding was made: a `Stage`, then positions within it (see context.py)."""


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int | None
    severity: Severity
    rule: str
    message: str
    place: Place = field(default=(), compare=False, repr=False)
    """Orders findings that share severity, file and line; not part of what a finding is."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message} [{self.rule}]"


@dataclass
class LintReport:
    template: str
    findings: list[Finding]
    built: BuiltTemplate | None

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity is Severity.WARNING]
