"""Errors of the template tools; each names the file (and line when known) it is about."""

from __future__ import annotations

from pathlib import Path

from transformer.errors import PinrecError


class TemplateError(PinrecError):
    """A template source, build, preview or publish step cannot go on."""


class AuthoringError(TemplateError):
    """A jinja2 source breaks a rule: bad syntax, an undefined name, or a variable the recommender lacks."""

    def __init__(self, message: str, file: Path | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file is not None and line is not None else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")


class PipelineGuardError(TemplateError):
    """An email pipeline stage changed what a reader sees: visible text or links differ before and after it."""
