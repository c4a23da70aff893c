"""Reading a Pinpoint project through its API (where a region's Pinpoint still answers): the same responses the
`aws pinpoint get-*` commands print, every page of each list. Templates are account-wide (ListTemplates), segments,
campaigns and journeys the application's; recommender configurations account-wide. Endpoints come from export files
(`--endpoints`): the API exports them to S3 asynchronously (CreateExportJob)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from campaign_tools.migrate.source import PinpointProject
from transformer.aws import AwsOptions, error_code
from transformer.errors import PinrecError

PAGE_SIZE = "100"
TEMPLATE_GETTERS = {
    "EMAIL": "get_email_template",
    "SMS": "get_sms_template",
    "PUSH": "get_push_template",
    "INAPP": "get_in_app_template",
    "VOICE": "get_voice_template",
}


def _pages(call: Callable[..., dict[str, Any]], key: str, token_key: str, **request: Any) -> Iterator[dict[str, Any]]:
    token: str | None = None
    while True:
        response = call(**request, PageSize=PAGE_SIZE, **({token_key: token} if token else {}))
        body = response.get(key, {})
        yield {key: body}
        token = body.get("NextToken")
        if not token:
            return


def read_application(application_id: str, aws: AwsOptions, *, client: Any | None = None) -> PinpointProject:
    from botocore.exceptions import BotoCoreError, ClientError

    from transformer.aws import client as make_client

    pinpoint = client or make_client("pinpoint", aws)
    project = PinpointProject()
    try:
        for page in _pages(pinpoint.list_templates, "TemplatesResponse", "NextToken"):
            for item in page["TemplatesResponse"].get("Item", []):
                getter = TEMPLATE_GETTERS.get(item.get("TemplateType", ""))
                if getter is None:
                    project.unrecognised.append((f"template {item.get('TemplateName')}", "unknown TemplateType"))
                    continue
                response = getattr(pinpoint, getter)(TemplateName=item["TemplateName"])
                response.pop("ResponseMetadata", None)
                project.add_response(response, f"API {getter} {item['TemplateName']}")
        for method, key in (
            ("get_segments", "SegmentsResponse"),
            ("get_campaigns", "CampaignsResponse"),
            ("list_journeys", "JourneysResponse"),
        ):
            for number, page in enumerate(
                _pages(getattr(pinpoint, method), key, "Token", ApplicationId=application_id)
            ):
                project.add_response(page, f"API {method} page {number + 1}")
        for number, page in enumerate(
            _pages(pinpoint.get_recommender_configurations, "ListRecommenderConfigurationsResponse", "Token")
        ):
            project.add_response(page, f"API get_recommender_configurations page {number + 1}")
    except ClientError as error:
        raise PinrecError(f"Pinpoint API: {error_code(error)}: {error.response['Error'].get('Message', '')}") from None
    except BotoCoreError as error:
        raise PinrecError(f"Pinpoint API: {error}") from None
    return project
