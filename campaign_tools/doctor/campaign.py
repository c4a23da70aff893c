"""A campaign file: the settings of one `pinrec send`, as TOML or JSON, the fields of `SendSettings` (what the send's
options become: `channel`, `template`, `config`, `recommendations`, `ledger`, `suppression`, `[sender]` with
`from_address`, `configuration_set`, `origination_identity` or `application_id`, `[aws]`...). `pinrec doctor`
checks what it names and `pinrec smoke` sends it to the simulators. `campaign_id` may be left out (the doctor uses
`doctor`, the smoke a fresh id)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from campaign_tools.send.settings import SendSettings
from transformer.errors import PinrecError

PLACEHOLDER_ID = "doctor"


class CampaignFileError(PinrecError):
    pass


def read_campaign(path: Path) -> dict[str, Any]:
    """The file's fields (TOML unless it ends with .json), before validation."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CampaignFileError(f"--campaign {path}: cannot read it ({type(error).__name__})") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except ValueError as error:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise CampaignFileError(f"--campaign {path}: not valid {kind} ({error})") from None
    if not isinstance(data, dict):
        raise CampaignFileError(f"--campaign {path}: the file must hold one table of send settings")
    return data


def load_campaign(path: Path, **overrides: Any) -> SendSettings:
    """The campaign file as validated send settings (every problem at once, named by its option), with `overrides`."""
    data = {"campaign_id": PLACEHOLDER_ID, **read_campaign(path), **overrides}
    if "config" in data and isinstance(data["config"], str) and not Path(data["config"]).is_absolute():
        data["config"] = str(path.parent / data["config"])  # a relative path is relative to the campaign file
    return SendSettings.model_validate(data)
