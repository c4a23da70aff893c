"""Credentials and region: who the caller is (sts GetCallerIdentity) and which region every other check reads."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext

found = Findings("identity")


def run(context: DoctorContext) -> list[Finding]:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    try:
        sts = context.clients("sts")
        region = sts.meta.region_name
        caller = sts.get_caller_identity()
    except NoCredentialsError:
        return [found.failure("credentials", "no AWS credentials were found",
                              "configure credentials: aws configure, AWS_PROFILE (or --profile), or an instance role")]  # fmt: skip
    except NoRegionError:
        return [found.failure("region", "no AWS region is set", "pass --region or set AWS_REGION")]
    except ClientError as error:
        return [found.aws_error("credentials", "sts:GetCallerIdentity", error, "valid, unexpired credentials")]
    except BotoCoreError as error:
        return [
            found.failure("credentials", f"AWS could not be reached: {error}", "check the network and --endpoint-url")
        ]
    if not region:
        return [found.failure("region", "no AWS region is set", "pass --region or set AWS_REGION")]
    context.account = str(caller.get("Account", "")) or None
    context.caller_arn = str(caller.get("Arn", "")) or None
    return [found.ok("credentials and region", f"account {context.account}, {context.caller_arn}, region {region}")]


CHECK = Check("identity", "credentials and region (sts:GetCallerIdentity)", run)
