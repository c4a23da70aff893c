"""Every doctor check, in the order they run (later checks use what earlier ones found: the account, the stacks).
Adding a check is a module beside identity.py with a `CHECK` and one line here."""

from __future__ import annotations

from campaign_tools.doctor import (
    dmarc,
    events,
    iam,
    identity,
    push,
    recommendations,
    ses_account,
    ses_identity,
    sms,
    stacks,
    suppression,
    tables,
)
from campaign_tools.doctor.base import Check

CHECKS: tuple[Check, ...] = (
    identity.CHECK,
    stacks.CHECK,
    ses_identity.CHECK,
    dmarc.CHECK,
    ses_account.CHECK,
    events.CHECK,
    suppression.CHECK,
    sms.CHECK,
    push.CHECK,
    tables.CHECK,
    recommendations.CHECK,
    iam.CHECK,
)
