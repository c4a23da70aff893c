"""What one setup step did (or, in a dry run, would do), for text and JSON output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Outcome:
    """`status` is created, updated, replaced, added, deleted or unchanged; `changes` says what and why."""

    step: str
    status: str
    subject: str
    changes: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.status != UNCHANGED

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "status": self.status,
            "subject": self.subject,
            "changes": list(self.changes),
            **self.details,
        }

    def text(self, dry_run: bool) -> str:
        status = f"would be {self.status}" if dry_run and self.changed else self.status
        lines = [f"{self.step} {self.subject}: {status}"]
        lines += [f"  - {change}" for change in self.changes]
        lines += [f"  {key}: {value}" for key, value in self.details.items() if value is not None]
        return "\n".join(lines)
