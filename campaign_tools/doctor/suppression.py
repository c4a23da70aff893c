"""Suppression: SES's account-level suppression list on for bounces and complaints (sesv2 GetAccount) and not turned
off by the configuration set (GetConfigurationSet SuppressionOptions); pinrec's own suppression list reachable
(read-only) and its copy of the providers' lists fresh (`pinrec suppression sync`)."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext
from campaign_tools.suppression import registry as suppression_registry
from transformer.errors import PinrecError

found = Findings("suppression")
NEEDED = ("BOUNCE", "COMPLAINT")
SYNCED = (("email", "ses-account"), ("sms", "opt-out-list:"))
"""The providers' lists `pinrec suppression sync` copies, by the channel they serve (push has none); without a
campaign, SES's is checked."""


def _ses(context: DoctorContext) -> list[Finding]:
    from botocore.exceptions import ClientError

    ses = context.clients("sesv2")
    try:
        reasons = set((ses.get_account().get("SuppressionAttributes") or {}).get("SuppressedReasons", []))
    except ClientError as error:
        return [found.aws_error("SES account suppression list", "ses:GetAccount", error, "ses:GetAccount")]
    missing = [reason for reason in NEEDED if reason not in reasons]
    if missing:
        return [found.warning("SES account suppression list", f"off for {', '.join(missing)}",
                              "aws sesv2 put-account-suppression-attributes --suppressed-reasons BOUNCE COMPLAINT")]  # fmt: skip
    findings = [found.ok("SES account suppression list", "on for BOUNCE and COMPLAINT")]
    for name in context.configuration_sets:
        try:
            options = ses.get_configuration_set(ConfigurationSetName=name).get("SuppressionOptions")
        except ClientError:
            continue  # the events check reports the configuration set
        if options is not None and set(options.get("SuppressedReasons", [])) < set(NEEDED):
            findings.append(found.warning(f"configuration set {name} suppression",
                                          f"overrides the account list with {options.get('SuppressedReasons')}",
                                          "remove the override or list BOUNCE and COMPLAINT (infra/events.yaml "
                                          "does)"))  # fmt: skip
    return findings


def _pinrec(context: DoctorContext) -> list[Finding]:
    spec = context.suppression_spec
    if spec is None:
        return [found.warning("pinrec suppression list", "none configured: sends consult no list",
                              "deploy infra/events.yaml (SuppressionTable) and set suppression = "
                              "\"dynamodb:pinrec-suppression\" in campaign.toml")]  # fmt: skip
    title = f"pinrec suppression list {spec}"
    try:
        listing = suppression_registry.open_suppression(spec, context.clients, read_only=True)
        try:
            synced = dict(listing.sync_times())
        finally:
            listing.close()
    except PinrecError as error:
        return [found.failure(title, f"cannot be read: {error}",
                              "create it (infra/events.yaml deploys the table) and grant dynamodb:GetItem, "
                              "BatchGetItem on it")]  # fmt: skip
    channels = context.campaign.channels.given() if context.campaign is not None else ("email",)
    sources = [source for channel, source in SYNCED if channel in channels]
    return [_fresh(context, title, synced, source) for source in sources] or [found.ok(title, "readable")]


def _fresh(context: DoctorContext, title: str, synced: dict[str, float], source: str) -> Finding:
    times = [at for name, at in synced.items() if name.startswith(source)]
    limit = context.settings.suppression_max_age_hours
    if not times:
        return found.warning(title, f"readable; the providers' lists ({source}) were never synced into it",
                             "run pinrec suppression sync daily (cron or an EventBridge schedule)")  # fmt: skip
    age = (context.now - max(times)) / 3600
    if age > limit:
        return found.warning(title, f"readable; last sync of {source} {age:.0f} hours ago (over {limit:g})",
                             "run pinrec suppression sync daily (cron or an EventBridge schedule)")  # fmt: skip
    return found.ok(title, f"readable; {source} synced {age:.1f} hours ago")


def run(context: DoctorContext) -> list[Finding]:
    return (_ses(context) if context.sends("email") else []) + _pinrec(context)


CHECK = Check("suppression", "SES account suppression, pinrec's list and its sync (ses:GetAccount, dynamodb)", run)
