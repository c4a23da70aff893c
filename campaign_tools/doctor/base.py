"""What a doctor check is: a name, and a function of the context that returns its findings, each ok, a warning, a
failure or skipped, with what was found and, when it is not ok, the fix.

Checks only read: they call Describe/Get/List/Simulate APIs and never one that changes anything (the tests record
every call and assert it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from transformer.aws import error_code

if TYPE_CHECKING:
    from campaign_tools.doctor.context import DoctorContext


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILURE = "failure"
    SKIPPED = "skipped"
    """Not checked, and why (nothing configured to check, DNS unreachable): never a failure."""


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    """The check's name (its module's CHECK.name)."""
    status: Status
    title: str
    """One line: what was checked, e.g. `SES identity shop.example.com`."""
    detail: str = ""
    """What was found."""
    fix: str = ""
    """What to do about it (empty when ok)."""

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "status": str(self.status), "title": self.title, "detail": self.detail,
                "fix": self.fix}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    """Short and stable (it names the check in `--output json`)."""
    description: str
    run: Callable[[DoctorContext], list[Finding]]


@dataclass(frozen=True, slots=True)
class Findings:
    """A check's finding makers, so each module writes `found.ok(...)` rather than repeating its name."""

    check: str

    def ok(self, title: str, detail: str = "") -> Finding:
        return Finding(self.check, Status.OK, title, detail)

    def warning(self, title: str, detail: str, fix: str) -> Finding:
        return Finding(self.check, Status.WARNING, title, detail, fix)

    def failure(self, title: str, detail: str, fix: str) -> Finding:
        return Finding(self.check, Status.FAILURE, title, detail, fix)

    def skipped(self, title: str, detail: str, fix: str = "") -> Finding:
        return Finding(self.check, Status.SKIPPED, title, detail, fix)

    def aws_error(self, title: str, call: str, error: BaseException, action: str, *, missing: str = "") -> Finding:
        """A failure from an AWS error: access denied names the IAM action to grant; a missing resource `missing`."""
        code = error_code(error)
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"):
            return self.failure(title, f"{call} was denied ({code})", f"grant the caller {action}")
        if missing and code in ("NotFoundException", "ResourceNotFoundException", "ValidationError"):
            return self.failure(title, f"{call}: {code}", missing)
        return self.failure(title, f"{call} failed ({code})", f"check the region and the caller's access ({action})")
