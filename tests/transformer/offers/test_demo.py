"""The offers sample (config, offers file, event) through the real handler, and its `pinrec demo` section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from campaign_tools.cli import main
from campaign_tools.commands.demo import render_offers
from campaign_tools.demo import run_demo, run_offers_demo
from tests.conftest import DEMO_DATA
from transformer.config import load_config
from transformer.enrich import LeftOut


@pytest.fixture(scope="module")
def offers_demo(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo")
    run_demo(workdir)
    return run_offers_demo(workdir)


def test_sample_offers_config_names_the_offer_template_attributes():
    config = load_config(Path(str(DEMO_DATA / "pinrec-offers.toml")))
    assert config.recommendation_attributes() == [
        "OfferTitle",
        "OfferDescription",
        "OfferCode",
        "OfferExpiry",
        "OfferScore",
    ]


def test_each_sample_endpoint_gets_its_best_eligible_offer(offers_demo):
    response = offers_demo.response
    codes = {endpoint_id: endpoint["Recommendations"]["OfferCode"] for endpoint_id, endpoint in response.items()}
    # Ana (EMAIL) [CAMP10, HIKE20, FREESHIP]: 1 x 1.5, 1/2 x 1, 1/3 x 0.5 -> shares 9/13, 3/13, 1/13 -> CAMP10.
    # Carla (SMS): CAMP10 is email-only; SMS5 = 1/2 x 1.2 = 0.6, RAIN15 = 1/3 x 2 = 0.667 -> RAIN15 (10/19).
    # Dan (GCM): OFF-GONE unknown; LOYAL = 1/2 x 0.8 = 0.4, HIKE20 = 1/3 -> LOYAL (6/11).
    assert codes == {"ep-email-ana": ["CAMP10-2HZM"], "ep-sms-carla": ["RAIN15-X8TB"], "ep-push-dan": ["LOYAL2X-3MNB"]}
    assert offers_demo.left_out == {"ep-email-ben": LeftOut.NO_OFFER, "ep-email-eve": LeftOut.NO_ITEMS}
    for endpoint_id, endpoint in response.items():
        assert {k: v for k, v in endpoint.items() if k != "Recommendations"} == offers_demo.event["Endpoints"][
            endpoint_id
        ]
        values = endpoint["Recommendations"]
        assert all(isinstance(value, list) and len(value) == 1 for value in values.values())
        assert all(isinstance(text, str) for value in values.values() for text in value)
    offers = {
        json.loads(line)["code"]: json.loads(line)
        for line in (offers_demo.workdir / "offers.jsonl").read_text().splitlines()
    }
    for endpoint in response.values():
        recommendations = endpoint["Recommendations"]
        chosen = offers[recommendations["OfferCode"][0]]
        assert recommendations["OfferTitle"] == [chosen["title"]]
        assert recommendations["OfferExpiry"] == [chosen.get("expires_at", "")[:10]]


def test_offers_log_holds_counts_never_offers_or_people(offers_demo):
    log = (offers_demo.workdir / "transformer-offers.log").read_text()
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    chosen = next(record for record in records if record.get("message") == "offers chosen")
    assert chosen["offers_excluded"] == {"channel": 2, "expired": 1, "not_started": 1, "unknown": 1}
    metrics = next(record for record in records if "OffersChosen" in record)
    assert metrics["OffersChosen"] == [3.0]
    assert metrics["EndpointsLeftOutNoOffer"] == [1.0]
    offers_text = (offers_demo.workdir / "offers.jsonl").read_text()
    secrets = {
        value for line in offers_text.splitlines() for value in json.loads(line).values() if isinstance(value, str)
    }
    secrets |= set(offers_demo.event["Endpoints"])
    secrets |= {endpoint["Address"] for endpoint in offers_demo.event["Endpoints"].values()}
    secrets = {value for value in secrets if len(value) >= 4 and value not in ("EMAIL", "any")}
    assert sorted(value for value in secrets if value in log) == []


def test_demo_section_explains_choices_and_exclusions(offers_demo):
    text = render_offers(offers_demo)
    assert "5 endpoints in, 3 out" in text
    assert "send time 2026-11-24T09:00:00+00:00" in text
    ben = text.split("ep-email-ben")[1].split("\n\n")[0]
    assert "excluded: expired" in ben and "excluded: not_started" in ben and "excluded: channel" in ben
    assert "left out, not sent: no_offer" in ben
    assert "CAMP10-2HZM" in text.split("ep-email-ana")[1].split("\n\n")[0]


def test_pinrec_demo_prints_both_sections(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    assert output.index("Loaded 22 catalog items") < output.index("Offers: the best eligible offer per endpoint")


def test_the_offer_template_preview_shows_each_recipients_chosen_offer(offers_demo):
    """End to end: sample offers -> transformer choice -> the offer template rendered per endpoint."""
    preview = offers_demo.preview
    assert preview is not None
    offers = [json.loads(line) for line in (DEMO_DATA / "offers.jsonl").read_text().splitlines() if line.strip()]
    codes = {offer["code"] for offer in offers}
    rendered = {endpoint.endpoint_id for endpoint in preview.endpoints}
    assert rendered == set(offers_demo.response), "every enriched endpoint is previewed, no left-out one"
    for endpoint_id, endpoint in offers_demo.response.items():
        chosen_code = endpoint["Recommendations"]["OfferCode"][0]
        folder = preview.out_dir / endpoint_id
        html = (folder / "email.html").read_text(encoding="utf-8")
        sms = (folder / "sms.txt").read_text(encoding="utf-8")
        assert chosen_code in html
        assert chosen_code in sms
        assert endpoint["Recommendations"]["OfferTitle"][0] in html
        assert not [code for code in codes - {chosen_code} if code in html + sms], "no other offer's code appears"
    for endpoint_id in offers_demo.left_out:
        assert not (preview.out_dir / endpoint_id).exists()
