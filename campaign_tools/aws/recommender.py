"""Pinpoint recommender configurations: get-or-update by name, never delete and re-create.

Templates refer to a recommender by its id, so the id must survive re-registration: the configuration with the
declared name is found over every page of GetRecommenderConfigurations and updated in place when it differs.
CloudFormation has no resource for it, which is why this is an SDK step.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import field
from typing import Any, ClassVar

from pydantic.dataclasses import dataclass

from campaign_tools.aws.errors import AwsError, ValidationFailed
from campaign_tools.aws.outcome import UNCHANGED, Outcome
from campaign_tools.aws.session import AwsSession, Request
from campaign_tools.aws.validation import (
    ID_TYPES,
    AttributeOptions,
    Attributes,
    CampaignArn,
    Description,
    FunctionRef,
    IdType,
    PerMessage,
    RecommenderName,
    Region,
    RoleArn,
    check_recommender_id,
    require_in_region,
)
from campaign_tools.settings import SETTINGS_CONFIG, InvalidSettings, Settings
from transformer.config import PinrecConfig, load_config
from transformer.limits import MAX_ITEMS_PER_MESSAGE

ATTRIBUTE_KEY_PREFIX = "Recommendations."
PAGE_SIZE = "20"  # the API takes the page size as a string
RESPONSE = "RecommenderConfigurationResponse"


def attributes_from_config(config: PinrecConfig) -> dict[str, str]:
    """The recommended attributes a pinrec.toml produces, as name -> display name."""
    return {name: config.display_name(name) for name in config.recommendation_attributes()}


def declared_attributes(options: Sequence[str], config: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The `--attribute Name=Display` options when given, else the attributes the configuration declares
    (`config`, else $PINREC_CONFIG or ./pinrec.toml). Shared by `recommender register` and `setup`."""
    if options:
        return AttributeOptions(options)
    return attributes_from_config(load_config(config))


@dataclass(frozen=True, config=SETTINGS_CONFIG)
class RecommenderSpec(Settings):
    """The configuration `pinrec recommender register` declares (its settings); checked when it is made."""

    invalid: ClassVar[type[InvalidSettings]] = ValidationFailed
    flags: ClassVar[Mapping[str, str]] = {"attributes": "--attribute"}

    name: RecommenderName
    campaign_arn: CampaignArn
    role_arn: RoleArn
    function: FunctionRef
    attributes: Attributes = field(default_factory=dict)
    id_type: IdType = "endpoint"
    per_message: PerMessage = MAX_ITEMS_PER_MESSAGE
    description: Description | None = None
    region: Region = field(default=None, kw_only=True)

    def body(self) -> dict[str, Any]:
        """The CreateRecommenderConfiguration / UpdateRecommenderConfiguration body."""
        body: dict[str, Any] = {
            "Name": self.name,
            "RecommendationProviderUri": self.campaign_arn,
            "RecommendationProviderRoleArn": self.role_arn,
            "RecommendationTransformerUri": self.function,
            "Attributes": {f"{ATTRIBUTE_KEY_PREFIX}{name}": display for name, display in self.attributes.items()},
            "RecommendationProviderIdType": ID_TYPES[self.id_type],
            "RecommendationsPerMessage": self.per_message,
        }
        if self.description is not None:
            body["Description"] = self.description
        return body


def iter_configurations(session: AwsSession) -> Iterator[dict[str, Any]]:
    """Every recommender configuration in the region, following NextToken across all pages."""
    params: dict[str, Any] = {"PageSize": PAGE_SIZE}
    while True:
        page = session.read(Request("pinpoint", "GetRecommenderConfigurations", params))
        listing = page.get("ListRecommenderConfigurationsResponse", {})
        yield from listing.get("Item", [])
        token = listing.get("NextToken")
        if not token:
            return
        params = {"PageSize": PAGE_SIZE, "Token": token}


def find_by_name(session: AwsSession, name: str) -> dict[str, Any] | None:
    matches = [item for item in iter_configurations(session) if item.get("Name") == name]
    if len(matches) > 1:
        ids = ", ".join(item["Id"] for item in matches)
        raise AwsError(
            f"{len(matches)} recommender configurations are named {name!r} ({ids}); pinrec updates by name, so "
            "delete the extra ones (pinrec recommender delete ID --yes) or choose another --name"
        )
    return matches[0] if matches else None


def differences(current: Mapping[str, Any], body: Mapping[str, Any]) -> list[str]:
    """Human-readable field changes from the current configuration to the declared body."""
    found = []
    for key, wanted in body.items():
        have = current.get(key)
        if key == "Attributes":
            have = have or {}
            for attribute in sorted(set(have) | set(wanted)):
                if have.get(attribute) != wanted.get(attribute):
                    found.append(f"{attribute}: {have.get(attribute)!r} -> {wanted.get(attribute)!r}")
        elif have != wanted:
            found.append(f"{key}: {have!r} -> {wanted!r}")
    return found


def register(session: AwsSession, spec: RecommenderSpec) -> Outcome:
    """Create the configuration named `spec.name`, or update it in place; the id never changes."""
    require_in_region(spec.function, session.region)
    body = spec.body()
    current = find_by_name(session, spec.name)
    if current is None:
        created = session.write(
            Request("pinpoint", "CreateRecommenderConfiguration", {"CreateRecommenderConfiguration": body})
        )
        recommender_id = created[RESPONSE]["Id"] if created else None  # None in a dry run: AWS assigns it
        return Outcome("recommender", "created", spec.name, (), {"recommender_id": recommender_id})
    recommender_id = current["Id"]
    changes = differences(current, body)
    if not changes:
        return Outcome("recommender", UNCHANGED, spec.name, (), {"recommender_id": recommender_id})
    if "Description" not in body and current.get("Description"):
        body["Description"] = current["Description"]  # not declared: keep what is there
    session.write(
        Request(
            "pinpoint",
            "UpdateRecommenderConfiguration",
            {"RecommenderId": recommender_id, "UpdateRecommenderConfiguration": body},
        )
    )
    changes.append("templates that use this recommender get the new settings on their next send")
    return Outcome("recommender", "updated", spec.name, tuple(changes), {"recommender_id": recommender_id})


def get_configuration(session: AwsSession, recommender_id: str) -> dict[str, Any]:
    if check_recommender_id(recommender_id):
        raise ValidationFailed(check_recommender_id(recommender_id))
    response = session.read(Request("pinpoint", "GetRecommenderConfiguration", {"RecommenderId": recommender_id}))
    configuration: dict[str, Any] = response[RESPONSE]
    return configuration


def delete_configuration(session: AwsSession, recommender_id: str) -> Outcome:
    current = get_configuration(session, recommender_id)
    session.write(Request("pinpoint", "DeleteRecommenderConfiguration", {"RecommenderId": recommender_id}))
    changes = ("messages not yet sent with templates that use it will fail",)
    return Outcome(
        "recommender", "deleted", current.get("Name", recommender_id), changes, {"recommender_id": recommender_id}
    )


def describe_configuration(item: Mapping[str, Any]) -> str:
    """One configuration as aligned text, attributes by their template variable name."""
    rows = [
        ("id", item.get("Id")),
        ("name", item.get("Name")),
        ("description", item.get("Description")),
        ("campaign", item.get("RecommendationProviderUri")),
        ("role", item.get("RecommendationProviderRoleArn")),
        ("transformer", item.get("RecommendationTransformerUri")),
        ("id type", item.get("RecommendationProviderIdType")),
        ("per message", item.get("RecommendationsPerMessage")),
        ("created", item.get("CreationDate")),
        ("modified", item.get("LastModifiedDate")),
    ]
    lines = [f"{label:<12} {value}" for label, value in rows if value is not None]
    attributes = item.get("Attributes") or {}
    if attributes:
        lines.append("attributes")
        width = max(len(key) for key in attributes)
        lines += [
            f"  {{{{{key}}}}}{' ' * (width - len(key))}  shown as {display!r}" for key, display in attributes.items()
        ]
    return "\n".join(lines)
