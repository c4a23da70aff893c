"""Every lint rule fires on a template that breaks it, and none fires on the shipped templates."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

from campaign_tools.channels import registry as channel_registry
from campaign_tools.cli import main
from campaign_tools.rendering import hazards
from campaign_tools.templates.lint import AUTHORING, BUILD, Severity, lint_template, rules
from campaign_tools.templates.lint.registry import RULES
from campaign_tools.templates.manifest import load_template
from tests.campaign_tools.channels.test_registry import FAX

OFFER_UNSUBSCRIBE = "[[ unsubscribe('Unsubscribe', style='color:#4a5561;text-decoration:underline;') ]]"
OFFER_SMS_END = "Reply STOP to opt out"

# (rule, severity, template, file, old, new)
BREAKAGES = [
    ("unknown-path", "error", "offer", "push-body.jinja", "Code ", "{{User.Nickname}} code "),
    ("undeclared-attribute", "error", "offer", "push-title.jinja", "[[", "{{Recommendations.Color.[0]}} [["),
    ("bare-list", "error", "offer", "push-title.jinja", "[[", "{{Recommendations.OfferTitle}} [["),
    ("index-beyond", "error", "offer", "push-body.jinja", "Code ", "{{Recommendations.OfferCode.[1]}} "),
    (
        "each-over-15",
        "warning",
        "offer",
        "push-body.jinja",
        "Code ",
        "{{#each User.UserAttributes.Interests}}{{this}} {{/each}}Code ",
    ),
    ("unknown-helper", "error", "offer", "push-title.jinja", "[[", "{{shout Recommendations.OfferTitle.[0]}} [["),
    (
        "unquoted-argument",
        "error",
        "offer",
        "push-title.jinja",
        "[[",
        '{{eq Recommendations.OfferCode.[0] SPRING yes="Spring!" no=""}} [[',
    ),
    (
        "unquoted-argument",
        "error",
        "offer",
        "push-title.jinja",
        "[[",
        "{{inflect 2 offer offers}} [[",
    ),
    (
        "numeric-string-comparison",
        "warning",
        "offer",
        "push-title.jinja",
        "[[",
        '{{#gt Recommendations.OfferCode.[0] "17"}}Big! {{/gt}}[[',
    ),
    ("float-literal", "warning", "offer", "push-title.jinja", "[[", "{{round 1.5}} [["),
    ("if-number", "warning", "offer", "push-title.jinja", "[[", "{{#if Metrics.orders}}Again! {{/if}}[["),
    ("missing-default", "error", "offer", "template.toml", '"Recommendations.OfferCode" = "SHIPFREE"\n', ""),
    (
        "triple-stash",
        "error",
        "offer",
        "email.mjml.jinja",
        "[[ rec('OfferTitle', 0) ]]</h1>",
        "{{{Recommendations.OfferTitle.[0]}}}</h1>",
    ),
    ("unsubscribe-link", "error", "offer", "email.mjml.jinja", OFFER_UNSUBSCRIBE, "Unsubscribe"),
    (
        "unsubscribe-link",
        "error",
        "offer",
        "email.mjml.jinja",
        '<mj-button css-class="button" href="[[ shop_url ]]"',
        '<mj-button ses:tags="unsubscribeLinkTag:x" href="[[ shop_url ]]"',
    ),
    ("img-alt", "error", "recommended-for-you", "email.mjml.jinja", "alt=\"[[ rec('Title', i) ]]\" ", ""),
    ("html-lang", "error", "offer", "email.mjml.jinja", '<mjml lang="[[ manifest.lang ]]">', "<mjml>"),
    (
        "utm",
        "warning",
        "offer",
        "email.mjml.jinja",
        "Enter the code at checkout",
        '<a href="https://shop.example.com/sale">See the sale</a>. Enter the code at checkout',
    ),
    ("utm", "warning", "offer", "email-text.jinja", "--", "Sale: https://www.shop.example.com/sale\n--"),
    ("sms-gsm7", "warning", "offer", "sms.jinja", OFFER_SMS_END, "You’ll love it. Reply STOP to opt out"),
    ("sms-opt-out", "warning", "offer", "sms.jinja", OFFER_SMS_END, "Enjoy"),
    ("sms-segments", "warning", "offer", "template.toml", "max_segments = 2", "max_segments = 1"),
    ("sms-worst-case", "warning", "offer", "template.toml", "max_segments = 2", "max_segments = 1"),
    ("email-size", "error", "offer", "email-text.jinja", "--", "--"),  # replaced below: a 95 KB paragraph
    ("part-size", "error", "offer", "sms.jinja", OFFER_SMS_END, "Reply STOP to opt out" + " and more" * 180),
    ("part-size", "error", "offer", "push-body.jinja", "Code ", "Code " + "x" * 4_000),
    ("render-error", "error", "offer", "push-title.jinja", "[[", "{{divide 10 0}} [["),
    (
        "unknown-default",
        "warning",
        "offer",
        "template.toml",
        "[default_substitutions]\n",
        '[default_substitutions]\n"Recommendations.Nope" = "x"\n',
    ),
    ("authoring", "error", "offer", "push-title.jinja", "[[ rec('OfferTitle', 0) ]]", "[[ rec('Color', 0) ]]"),
]
REGISTERED_IDS = {rule_id for rule in RULES for rule_id in rule.ids}
BUILD_IDS = {AUTHORING, BUILD}


@pytest.mark.parametrize("name", ["recommended-for-you", "offer"])
def test_shipped_templates_have_no_errors_or_warnings(name: str, renderer: object) -> None:
    report = lint_template(load_template(name), renderer=renderer)
    assert report.errors == [] and report.warnings == [], "\n".join(map(str, report.errors + report.warnings))
    notes = {finding.rule for finding in report.findings}
    assert {"sms-segments", "sms-worst-case", "email-size"} <= notes  # the figures are always reported


@pytest.mark.parametrize(
    "breakage", BREAKAGES, ids=[f"{rule}-{index}" for index, (rule, *_rest) in enumerate(BREAKAGES)]
)
def test_each_rule_fires_on_a_template_that_breaks_it(
    breakage: tuple[str, str, str, str, str, str], template_copy, renderer: object
) -> None:
    rule, severity, name, file, old, new = breakage
    if rule == "email-size":
        file, old, new = "email.mjml.jinja", "Enter the code at checkout", "Enter the code. " + "Words " * 16_000
    source = template_copy(name, {file: [(old, new)]})
    report = lint_template(source, renderer=renderer)
    matching = [finding for finding in report.findings if finding.rule == rule]
    assert matching, "\n".join(map(str, report.findings))
    assert any(finding.severity is Severity(severity) for finding in matching)
    located = [finding for finding in matching if finding.severity is Severity(severity)]
    assert all(finding.file.startswith(name + "/") for finding in located)
    assert {finding.rule for finding in report.findings} <= REGISTERED_IDS | BUILD_IDS


def test_the_registry_lists_every_rule_module_once() -> None:
    modules = [
        importlib.import_module(f"{rules.__name__}.{info.name}") for info in pkgutil.iter_modules(rules.__path__)
    ]
    assert len(RULES) == len(modules)
    for module in modules:
        assert RULES.count(module.RULE) == 1, module.__name__
        assert module.__name__.rsplit(".", 1)[1] == module.RULE.ids[0].replace("-", "_")  # one module per rule id
    ids = [rule_id for rule in RULES for rule_id in rule.ids]
    assert len(ids) == len(set(ids))


def test_every_hazard_the_renderer_finds_has_a_rule() -> None:
    codes = set(re.findall(r'Hazard\(\s*line,\s*"([a-z0-9-]+)"', inspect.getsource(hazards)))
    assert codes and codes <= REGISTERED_IDS


def test_findings_on_one_line_follow_the_source_not_the_registry(template_copy, renderer: object) -> None:
    source = template_copy(
        "offer", {"push-title.jinja": [("[[", "{{Recommendations.OfferTitle}} {{User.Nickname}} [[")]}
    )
    report = lint_template(source, renderer=renderer)
    on_line = [finding.rule for finding in report.errors if finding.file == "offer/push-title.jinja"]
    assert on_line == ["bare-list", "unknown-path"]


def test_each_samples_sms_notes_stay_together(renderer: object) -> None:
    findings = lint_template(load_template("recommended-for-you"), renderer=renderer).findings
    data_notes = [index for index, finding in enumerate(findings) if finding.rule == "sms-gsm7"]
    assert data_notes  # a sample in the shipped template has a character outside GSM-7
    for index in data_notes:
        sample = findings[index].message.removeprefix("SMS for ").split(" is UCS-2")[0]
        before = findings[index - 1]
        assert (before.rule, before.message.split(":")[0]) == ("sms-segments", f"SMS for {sample}")


def test_findings_point_at_the_source_file_and_line(template_copy, renderer: object) -> None:
    source = template_copy(
        "offer", {"email.mjml.jinja": [("Enter the code at checkout", "{{Recommendations.Colour.[0]}} Enter")]}
    )
    report = lint_template(source, renderer=renderer)
    [finding] = [finding for finding in report.findings if finding.rule == "undeclared-attribute"]
    lines = (source.directory / "email.mjml.jinja").read_text(encoding="utf-8").splitlines()
    assert finding.file == "offer/email.mjml.jinja"
    assert "{{Recommendations.Colour.[0]}}" in lines[finding.line - 1]
    assert str(finding).startswith(f"offer/email.mjml.jinja:{finding.line}: error: ")


def test_authoring_errors_name_file_and_line(template_copy, renderer: object) -> None:
    source = template_copy("offer", {"sms.jinja": [("[[ rec('OfferCode', 0) ]]", "[[ rec('OfferCode', 3) ]]")]})
    [finding] = lint_template(source, renderer=renderer).findings
    assert (finding.file, finding.line, finding.rule) == ("offer/sms.jinja", 1, "authoring")
    assert "beyond RecommendationsPerMessage (1)" in finding.message


def test_a_condition_needs_no_default_but_a_printed_value_does(template_copy, renderer: object) -> None:
    tested = template_copy(
        "offer", {"push-title.jinja": [("[[", "{{#if Recommendations.OfferCode.[0]}}Code! {{/if}}[[")]}
    )
    assert lint_template(tested, renderer=renderer).errors == []


def test_the_sms_worst_case_uses_the_configured_max_length(template_copy, renderer: object) -> None:
    short = lint_template(template_copy("offer"), renderer=renderer)
    longer = template_copy("offer", {"template.toml": [("max_length = 40", "max_length = 400")]})
    long_report = lint_template(longer, renderer=renderer)

    def worst(report) -> str:
        return next(finding.message for finding in report.findings if finding.rule == "sms-worst-case")

    assert "240 characters" in worst(short)
    assert "600 characters" in worst(long_report)


def test_lint_command_exits_1_on_errors_and_0_when_clean(template_copy, capsys) -> None:
    assert main(["templates", "lint", "offer", "--quiet"]) == 0
    clean = capsys.readouterr().out
    assert clean.strip().endswith("offer: 0 error(s), 0 warning(s)")
    broken = template_copy("offer", {"push-title.jinja": [("[[", "{{Recommendations.OfferTitle}} [[")]})
    assert main(["templates", "lint", str(broken.directory)]) == 1
    out = capsys.readouterr().out
    assert "offer/push-title.jinja:1: error:" in out and "[bare-list]" in out


def test_untagged_owned_links_are_found_in_sms_and_push_too(template_copy, renderer: object) -> None:
    source = template_copy(
        "offer",
        {
            "sms.jinja": [("[[ utm('https://shop.example.com/offers', 'sms') ]]", "https://shop.example.com/offers")],
            "push-url.jinja": [
                (
                    "[[ utm('https://shop.example.com/offers?code=' ~ rec('OfferCode', 0), 'push') ]]",
                    "https://shop.example.com/offers?code=[[ rec('OfferCode', 0) ]]",
                )
            ],
        },
    )
    utm = [finding for finding in lint_template(source, renderer=renderer).findings if finding.rule == "utm"]
    assert {finding.file for finding in utm} == {"offer/sms.jinja", "offer/push-url.jinja"}
    assert any("rendered push URL https://shop.example.com/offers?code=RAIN20" in f.message for f in utm)


def test_a_registered_channel_s_parts_are_rendered_for_every_sample(
    template_copy, renderer: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(channel_registry, "CHANNELS", (*channel_registry.CHANNELS, FAX))
    copied = template_copy("offer").directory
    (copied / "fax.jinja").write_text("Your code: {{divide 1 0}}\n", encoding="utf-8")
    manifest = copied / "template.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"push"]', '"push", "fax"]', 1), encoding="utf-8")
    report = lint_template(load_template(str(copied)), renderer=renderer)
    failed = [finding for finding in report.errors if finding.rule == "render-error"]
    assert failed and all(finding.file.startswith("offer/fax.jinja") for finding in failed), "\n".join(
        map(str, report.findings)
    )
    assert all("divide: division by zero" in finding.message for finding in failed)
    assert report.built is not None
    assert len(failed) == len(report.built.samples) + 1, "every sample and the worst case"
