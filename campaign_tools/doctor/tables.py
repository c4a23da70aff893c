"""The DynamoDB tables pinrec reads and writes (dynamodb DescribeTable): each exists, is ACTIVE and has exactly the
key schema pinrec's code expects -- the catalog (the configuration's key), the send ledger and the suppression
list (campaign_tools.send.ledgers.dynamodb and campaign_tools.suppression.dynamodb define the keys)."""

from __future__ import annotations

from campaign_tools.doctor.base import Check, Finding, Findings
from campaign_tools.doctor.context import DoctorContext
from campaign_tools.send.ledgers.dynamodb import KEY_SCHEMA as LEDGER_KEY
from campaign_tools.suppression.dynamodb import KEY as SUPPRESSION_KEY

found = Findings("tables")

Key = set[tuple[str, str, str]]


def _describe(key: Key) -> str:
    return ", ".join(f"{'partition' if kind == 'HASH' else 'sort'} key {name} ({type_})"
                     for name, kind, type_ in sorted(key, key=lambda part: part[1]))  # fmt: skip


def _table(context: DoctorContext, role: str, table: str, expected: Key, create: str) -> Finding:
    from botocore.exceptions import ClientError

    title = f"{role} table {table}"
    try:
        answer = context.clients("dynamodb").describe_table(TableName=table)["Table"]
    except ClientError as error:
        return found.aws_error(title, "dynamodb:DescribeTable", error, "dynamodb:DescribeTable",
                               missing=f"no such table in this account and region: {create}")  # fmt: skip
    types = {a["AttributeName"]: a["AttributeType"] for a in answer.get("AttributeDefinitions", [])}
    key = {(k["AttributeName"], k["KeyType"], types.get(k["AttributeName"], "?")) for k in answer.get("KeySchema", [])}
    if key != expected:
        return found.failure(title, f"key schema {_describe(key)}; pinrec expects {_describe(expected)}",
                             f"{create} (a table's key cannot be changed)")  # fmt: skip
    if answer.get("TableStatus") != "ACTIVE":
        return found.warning(title, f"status {answer.get('TableStatus')}", "wait until it is ACTIVE")
    return found.ok(title, f"ACTIVE, {_describe(key)}")


def run(context: DoctorContext) -> list[Finding]:
    findings = []
    catalog = context.catalog_table
    if catalog:
        table, key = catalog
        findings.append(_table(context, "catalog", table, {(key, "HASH", "S")},
                               "deploy infra/template.yaml (CatalogTable) or fix [store] table and key"))  # fmt: skip
    ledger = context.ledger_table
    if ledger:
        findings.append(_table(context, "ledger", ledger, set(LEDGER_KEY),
                               "deploy infra/send-statemachine.yaml (LedgerTable) or create a table with partition key "
                               "campaign_id (S) and sort key endpoint_id (S)"))  # fmt: skip
    spec = context.suppression_spec
    if spec and spec.startswith("dynamodb:"):
        findings.append(_table(context, "suppression", spec.partition(":")[2], {(SUPPRESSION_KEY, "HASH", "S")},
                               "deploy infra/events.yaml (SuppressionTable) or create a table with partition key "
                               "recipient (S)"))  # fmt: skip
    return findings or [found.skipped("tables", "no DynamoDB catalog, ledger or suppression table is configured")]


CHECK = Check("tables", "catalog, ledger and suppression tables and their keys (dynamodb:DescribeTable)", run)
