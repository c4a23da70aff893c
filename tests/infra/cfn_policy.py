"""A CloudFormation role policy as deployed, and what IAM allows with it: enough of both to test least privilege.

`instantiate` resolves the intrinsic functions the stacks use (Ref, Fn::Sub, Fn::GetAtt, Fn::If with Conditions,
Fn::FindInMap, Fn::Join, Fn::Equals/Not/And/Or, AWS::NoValue) for given parameters; `allows` evaluates Allow
statements the way IAM matches actions (case-insensitive, `*` wildcards) and resources (`*` and `?` wildcards).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

NO_VALUE = object()


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
