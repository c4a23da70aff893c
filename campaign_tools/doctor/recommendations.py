"""The recommendation source the campaign (or the send stack's RecommendationsArn) names: a Personalize campaign
(DescribeCampaign) or recommender (DescribeRecommender) ACTIVE, or a Customer Profiles domain (GetDomain)."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext

found = Findings("recommendations")


def _spec(context: DoctorContext) -> str | None:
    if context.recommendations is not None:
        return context.recommendations
    stack = context.stack_of("send")
    arn = stack.parameters.get("RecommendationsArn") if stack else None
    if not arn:
        return None
    return f"personalize-recommender:{arn}" if ":recommender/" in arn else f"personalize:{arn}"


def _status(title: str, status: str, detail: str) -> Finding:
    if status == "ACTIVE":
        return found.ok(title, f"ACTIVE{detail}")
    if status.startswith("CREATE") or status.endswith("PENDING") or status.endswith("IN_PROGRESS"):
        return found.warning(title, f"status {status}", "wait until it is ACTIVE before sending")
    return found.failure(title, f"status {status}",
                         "recreate it or start it (a stopped recommender: aws personalize start-recommender)")  # fmt: skip


def run(context: DoctorContext) -> list[Finding]:
    from botocore.exceptions import ClientError

    spec = _spec(context)
    if not spec:
        return [found.skipped("recommendations", "no Personalize or Customer Profiles source is named")]
    kind, _, target = spec.partition(":")
    target = target.partition("@")[0]
    try:
        if kind == "personalize":
            answer = context.clients("personalize").describe_campaign(campaignArn=target)["campaign"]
            latest = (answer.get("latestCampaignUpdate") or {}).get("status")
            note = f", latest update {latest}" if latest and latest != "ACTIVE" else ""
            return [_status(f"Personalize campaign {target}", str(answer.get("status")), note)]
        if kind == "personalize-recommender":
            answer = context.clients("personalize").describe_recommender(recommenderArn=target)["recommender"]
            return [_status(f"Personalize recommender {target}", str(answer.get("status")), "")]
        if kind == "customer-profiles":
            domain = target.partition("/")[0]
            context.clients("customer-profiles").get_domain(DomainName=domain)
            return [found.ok(f"Customer Profiles domain {domain}", "exists")]
    except ClientError as error:
        action = {"personalize": "personalize:DescribeCampaign", "customer-profiles": "profile:GetDomain"}.get(
            kind, "personalize:DescribeRecommender"
        )
        return [found.aws_error(f"recommendations {target}", action, error, action,
                                missing="create it, or fix recommendations in the campaign (the ARN and region)")]  # fmt: skip
    return [found.skipped("recommendations", f"{kind}: nothing to check in AWS")]


CHECK = Check("recommendations", "the Personalize campaign / recommender or Customer Profiles domain", run)
