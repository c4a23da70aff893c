"""A CloudFormation role policy as deployed, and what IAM allows with it: enough of both to test least privilege.

`instantiate` resolves the intrinsic functions the stacks use (Ref, Fn::Sub, Fn::GetAtt, Fn::If with Conditions,
Fn::FindInMap, Fn::Join, Fn::Equals/Not/And/Or, AWS::NoValue) for given parameters; `allows` evaluates Allow
statements the way IAM matches actions (case-insensitive, `*` wildcards) and resources (`*` and `?` wildcards).
`resources` is a stack's resources as deployed; `queue`, `function`, `log_group`, `role` give plausible physical ids;
`record_calls` records the AWS calls a function makes, `dynamodb_grant` the action and table IAM checks for one.
`lint_findings` and `linted_by_make` are what every stack's lint tests ask.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from cfnlint.api import ManualArgs, lint_file

NO_VALUE = object()
ROOT = Path(__file__).resolve().parents[2]
MOTO_REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"
"""Where moto's server (tests/aws_fixtures.py) keeps everything: the stacks are resolved there, so the real handlers
run against moto with the very ARNs their roles name."""


def moto_arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{MOTO_REGION}:{MOTO_ACCOUNT}:{resource}"


LINT = ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1", "ap-south-1"])
Physical = Callable[["Stack", str], str]
Call = tuple[str, str, dict[str, Any]]
"""A recorded AWS call: the service's signing name, the operation and its parameters."""


@dataclass(frozen=True)
class Stack:
    template: Mapping[str, Any]
    parameters: Mapping[str, Any]
    region: str
    account: str
    name: str
    physical: Mapping[str, Callable[[Stack, str], str]]
    """Each resource's Ref (attribute "") and GetAtt values, by logical id."""

    def parameter(self, name: str) -> Any:
        if name in self.parameters:
            value = self.parameters[name]
        else:
            value = self.template["Parameters"][name].get("Default", "")
        if self.template["Parameters"][name]["Type"] == "CommaDelimitedList" and isinstance(value, str):
            return value.split(",") if value else [""]
        return value

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::StackName": self.name,
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template["Parameters"]:
            return self.parameter(name)
        return self.physical[name](self, "")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node: Any) -> Any:  # noqa: PLR0911 - one return per intrinsic function
        if isinstance(node, list):
            return [value for value in (self.resolve(item) for item in node) if value is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((function, argument),) = node.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::Sub":
                return self._sub(argument)
            if function == "Fn::GetAtt":
                resource, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.physical[resource](self, attribute)
            if function == "Fn::If":
                name, then, otherwise = argument
                return self.resolve(then if self.condition(name) else otherwise)
            if function == "Fn::FindInMap":
                mapping, key, name = (self.resolve(value) for value in argument)
                return self.template["Mappings"][mapping][key][name]
            if function == "Fn::Join":
                separator, values = argument
                return separator.join(self.resolve(values))
            if function == "Fn::Equals":
                left, right = (self.resolve(value) for value in argument)
                return left == right
            if function == "Fn::Not":
                return not self.resolve(argument[0])
            if function == "Fn::And":
                return all(self.resolve(value) for value in argument)
            if function == "Fn::Or":
                return any(self.resolve(value) for value in argument)
            if function == "Condition":
                return self.condition(argument)
        return {key: value for key, value in ((k, self.resolve(v)) for k, v in node.items()) if value is not NO_VALUE}

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                resource, attribute = name.split(".", 1)
                return self.physical[resource](self, attribute)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", value, text)


def resources(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each resource the parameters deploy: its type and resolved properties."""
    deployed = {}
    for name, resource in stack.template["Resources"].items():
        if "Condition" in resource and not stack.condition(resource["Condition"]):
            continue
        deployed[name] = {"Type": resource["Type"], **stack.resolve(resource.get("Properties", {}))}
    return deployed


def arn(stack: Stack, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{stack.region}:{stack.account}:{resource}"


def queue(suffix: str) -> Physical:
    """An SQS queue named `<stack>-<suffix>`: its URL (Ref), Arn and QueueName."""

    def value(stack: Stack, attribute: str) -> str:
        name = f"{stack.name}-{suffix}"
        return {
            "": f"https://sqs.{stack.region}.amazonaws.com/{stack.account}/{name}",
            "Arn": arn(stack, "sqs", name),
            "QueueName": name,
        }[attribute]

    return value


def function(suffix: str) -> Physical:
    """A Lambda function named `<stack>-<suffix>`: its name (Ref) and Arn."""
    return lambda stack, attribute: (
        arn(stack, "lambda", f"function:{stack.name}-{suffix}") if attribute else f"{stack.name}-{suffix}"
    )


def log_group(suffix: str) -> Physical:
    """The log group of the function `<stack>-<suffix>`: its name (Ref) and Arn."""

    def value(stack: Stack, attribute: str) -> str:
        name = f"/aws/lambda/{stack.name}-{suffix}"
        return arn(stack, "logs", f"log-group:{name}:*") if attribute else name

    return value


def role(name: str) -> Physical:
    """An IAM role named `<stack>-<name>`: its Arn."""
    return lambda stack, _: f"arn:aws:iam::{stack.account}:role/{stack.name}-{name}"


def lint_findings(template: Path) -> list[str]:
    """What cfn-lint finds in the template, informational checks included."""
    return [f"{f.rule.id} line {f.linenumber}: {f.message}" for f in lint_file(template, config=LINT)]


def linted_by_make(template: Path) -> bool:
    """Whether a cfn-lint line of the Makefile (what `make test` runs) names the template."""
    lint_lines = [line for line in (ROOT / "Makefile").read_text().splitlines() if "cfn-lint" in line]
    name = str(template.relative_to(ROOT))
    return any(name in line.split() for line in lint_lines)


def record_calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """Every AWS call any botocore client makes from now on (the call still goes through), in order."""
    calls: list[Call] = []
    original = BaseClient._make_api_call

    def record(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append((client.meta.service_model.signing_name, operation, dict(params)))
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return calls


def dynamodb_grant(operation: str, params: dict[str, Any], region: str, account: str) -> tuple[str, str]:
    """The action IAM checks for a DynamoDB call of one table, and that table's ARN."""
    tables = [params["TableName"]] if "TableName" in params else list(params.get("RequestItems", {}))
    assert len(tables) == 1, (operation, tables)
    return f"dynamodb:{operation}", f"arn:aws:dynamodb:{region}:{account}:table/{tables[0]}"


def role_statements(stack: Stack, role: str) -> list[dict[str, Any]]:
    """Every statement of the role's inline policies, as deployed with the stack's parameters."""
    properties = stack.resolve(stack.template["Resources"][role]["Properties"])
    return [statement for policy in properties["Policies"] for statement in policy["PolicyDocument"]["Statement"]]


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    for statement in statements:
        assert statement["Effect"] == "Allow" and "Condition" not in statement and "NotResource" not in statement
        actions = as_list(statement["Action"])
        if not any(fnmatch.fnmatchcase(action.lower(), granted.lower()) for granted in actions):
            continue
        if any(fnmatch.fnmatchcase(resource, pattern) for pattern in as_list(statement["Resource"])):
            return True
    return False


def grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Every (action, resource pattern) the statements allow."""
    return {
        (action, resource)
        for statement in statements
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    }
