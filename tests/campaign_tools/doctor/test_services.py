"""SMS numbers and opt-out lists (answered: moto has no End User Messaging SMS), the push application (moto), the
DynamoDB tables' keys (moto), and the recommendation sources (answered: moto has no Personalize campaigns or
Customer Profiles)."""

from __future__ import annotations

from typing import Any

from campaign_tools.doctor import push, recommendations, sms, tables
from campaign_tools.doctor.base import Status
from campaign_tools.suppression.dynamodb import create_suppression_table
from tests.campaign_tools.doctor.conftest import CAMPAIGN_ARN, answer, campaign, only, statuses

NUMBER = {
    "PhoneNumberArn": "arn:aws:sms-voice:eu-west-1:123456789012:phone-number/phone-1",
    "PhoneNumberId": "phone-1",
    "PhoneNumber": "+12065550100",
    "Status": "ACTIVE",
    "NumberType": "TOLL_FREE",
    "OptOutListName": "Default",
    "SelfManagedOptOutsEnabled": False,
}


def sms_campaign() -> Any:
    return campaign(channel="sms", sender={"origination_identity": "phone-1"})


def test_an_active_number_with_its_opt_out_list_is_ok(clients, make_context, run_check):
    client = clients("pinpoint-sms-voice-v2")
    answer(client, "DescribePhoneNumbers", {"PhoneNumbers": [NUMBER]})
    answer(client, "DescribeOptOutLists", {"OptOutLists": [{"OptOutListName": "Default"}]})
    finding = only(run_check(sms.CHECK, make_context(campaign=sms_campaign())), Status.OK)
    assert finding.title == "SMS number +12065550100"
    assert finding.detail == "ACTIVE, TOLL_FREE, opt-out list Default"


def test_a_number_whose_opt_out_list_is_gone_fails(clients, make_context, run_check):
    client = clients("pinpoint-sms-voice-v2")
    answer(client, "DescribePhoneNumbers", {"PhoneNumbers": [NUMBER]})
    answer(client, "DescribeOptOutLists", {"OptOutLists": []})
    finding = only(run_check(sms.CHECK, make_context(campaign=sms_campaign())), Status.FAILURE)
    assert finding.detail == "opt-out list Default does not exist"
    assert finding.fix == (
        "aws pinpoint-sms-voice-v2 create-opt-out-list, then update-phone-number --opt-out-list-name"
    )


def test_an_unknown_origination_number_fails(clients, make_context, run_check):
    answer(clients("pinpoint-sms-voice-v2"), "DescribePhoneNumbers", "ResourceNotFoundException")
    finding = only(run_check(sms.CHECK, make_context(campaign=sms_campaign())), Status.FAILURE)
    assert finding.fix == "request the number or fix [sms] origination_identity (phone-1)"


def test_sms_is_skipped_for_an_email_campaign(make_context, run_check):
    only(run_check(sms.CHECK, make_context(campaign=campaign())), Status.SKIPPED)


def test_the_push_application_exists(clients, make_context, run_check):
    app = clients("pinpoint").create_app(CreateApplicationRequest={"Name": "shop-app"})["ApplicationResponse"]["Id"]
    send = campaign(channel="push", sender={"application_id": app})
    finding = only(run_check(push.CHECK, make_context(campaign=send)), Status.OK)
    assert finding.detail == "shop-app"


def test_a_missing_push_application_fails(make_context, run_check):
    send = campaign(channel="push", sender={"application_id": "0123456789abcdef0123456789abcdef"})
    finding = only(run_check(push.CHECK, make_context(campaign=send)), Status.FAILURE)
    assert finding.fix == "create the application (End User Messaging push) or fix the campaign's [push] application_id"


def create_table(clients: Any, name: str, keys: list[tuple[str, str]]) -> None:
    clients("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )


def test_tables_with_the_expected_keys_are_ok(clients, make_context, run_check):
    create_table(clients, "pinrec-send-ledger", [("campaign_id", "HASH"), ("endpoint_id", "RANGE")])
    create_suppression_table(clients("dynamodb"), "pinrec-suppression")
    findings = run_check(tables.CHECK, make_context(campaign=campaign()))
    assert statuses(findings) == ["ok", "ok"]
    assert findings[0].detail == "ACTIVE, partition key campaign_id (S), sort key endpoint_id (S)"


def test_a_ledger_with_another_key_fails_and_a_missing_table_fails(clients, make_context, run_check):
    create_table(clients, "pinrec-send-ledger", [("id", "HASH")])
    ledger, suppression = run_check(tables.CHECK, make_context(campaign=campaign()))
    assert ledger.status is Status.FAILURE
    assert ledger.detail == (
        "key schema partition key id (S); pinrec expects partition key campaign_id (S), sort key endpoint_id (S)"
    )
    assert ledger.fix.endswith("(a table's key cannot be changed)")
    assert suppression.status is Status.FAILURE
    assert suppression.fix == (
        "no such table in this account and region: deploy infra/events.yaml (SuppressionTable) or create a table "
        "with partition key recipient (S)"
    )


def test_an_active_personalize_campaign_is_ok(clients, make_context, run_check):
    answer(clients("personalize"), "DescribeCampaign", {"campaign": {"campaignArn": CAMPAIGN_ARN, "status": "ACTIVE"}})
    finding = only(run_check(recommendations.CHECK, make_context(campaign=campaign())), Status.OK)
    assert finding.title == f"Personalize campaign {CAMPAIGN_ARN}"


def test_a_missing_personalize_campaign_fails(clients, make_context, run_check):
    answer(clients("personalize"), "DescribeCampaign", "ResourceNotFoundException")
    finding = only(run_check(recommendations.CHECK, make_context(campaign=campaign())), Status.FAILURE)
    assert finding.fix == "create it, or fix recommendations in the campaign (the ARN and region)"


def test_a_stopped_recommender_fails(clients, make_context, run_check):
    arn = "arn:aws:personalize:eu-west-1:123456789012:recommender/top-picks"
    answer(
        clients("personalize"), "DescribeRecommender", {"recommender": {"recommenderArn": arn, "status": "INACTIVE"}}
    )
    send = campaign(recommendations=f"personalize-recommender:{arn}")
    finding = only(run_check(recommendations.CHECK, make_context(campaign=send)), Status.FAILURE)
    assert finding.fix == "recreate it or start it (a stopped recommender: aws personalize start-recommender)"


def test_the_customer_profiles_domain(clients, make_context, run_check):
    send = campaign(recommendations="customer-profiles:shop/picks")
    answer(clients("customer-profiles"), "GetDomain", {"DomainName": "shop"})
    assert only(run_check(recommendations.CHECK, make_context(campaign=send)), Status.OK).detail == "exists"


def test_a_denied_customer_profiles_domain_names_the_action(clients, make_context, run_check):
    send = campaign(recommendations="customer-profiles:shop/picks")
    answer(clients("customer-profiles"), "GetDomain", "AccessDeniedException")
    finding = only(run_check(recommendations.CHECK, make_context(campaign=send)), Status.FAILURE)
    assert finding.fix == "grant the caller profile:GetDomain"
