"""Render Pinpoint message templates exactly as Pinpoint substitutes them, and measure SMS text.

Public API (see RENDERING_API.md): `PinpointRenderer`, `Rendered`, `BranchHit`, `TemplateRenderError`,
`parse_default_substitutions`, `sms_encoding`, `sms_segments`, `SmsInfo`, `NonGsmChar`, `lint_hazards`, `Hazard`.
"""

from campaign_tools.rendering.defaults import parse_default_substitutions
from campaign_tools.rendering.errors import TemplateRenderError
from campaign_tools.rendering.hazards import Hazard, lint_hazards
from campaign_tools.rendering.renderer import BranchHit, PinpointRenderer, Rendered
from campaign_tools.rendering.sms import NonGsmChar, SmsInfo, sms_encoding, sms_segments

__all__ = [
    "BranchHit",
    "Hazard",
    "NonGsmChar",
    "PinpointRenderer",
    "Rendered",
    "SmsInfo",
    "TemplateRenderError",
    "lint_hazards",
    "parse_default_substitutions",
    "sms_encoding",
    "sms_segments",
]
