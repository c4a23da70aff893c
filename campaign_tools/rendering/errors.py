"""The one error the renderer raises: it names the template and, when known, the line."""

from __future__ import annotations

from transformer.errors import PinrecError


class TemplateRenderError(PinrecError):
    """A template could not be parsed or rendered; the message reads `name:line: reason`."""

    def __init__(self, template: str, line: int | None, reason: str) -> None:
        self.template = template
        self.line = line
        self.reason = reason
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {reason}")


class HelperError(ValueError):
    """A helper was called with arguments it cannot use; the renderer adds the template name and line."""
