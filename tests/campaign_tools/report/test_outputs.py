"""The report as JSON (a stable schema) and as text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from campaign_tools.report import json_report, text
from campaign_tools.report.figures import SERIES_HOURS, SERIES_KINDS
from tests.campaign_tools.report.builders import EMAIL, EMAIL_EVENTS, HOSTILE_LINK, SMS, SMS_EVENTS, write
from tests.campaign_tools.report.test_figures import read

FIGURE_KEYS = [
    "sent",
    "delivered",
    "bounced",
    "hard_bounced",
    "soft_bounced",
    "complained",
    "rejected",
    "rendering_failed",
    "delayed",
    "opened",
    "clicked",
    "clicks",
    "unsubscribed",
    "suppressed",
    "suppressed_by_reason",
    "failed",
    "failed_by_reason",
    "links",
    "rates",
]
RATE_KEYS = [
    "delivery",
    "bounce",
    "hard_bounce",
    "soft_bounce",
    "complaint",
    "reject",
    "open",
    "click",
    "click_to_open",
    "unsubscribe",
]


def _series(**buckets: dict[int, int]) -> dict[str, list[int]]:
    series = {kind: [0] * SERIES_HOURS for kind in SERIES_KINDS}
    for kind, counts in buckets.items():
        for hour, count in counts.items():
            series[kind][hour] = count
    return series


def test_sms_report_json_is_exactly_this(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", SMS, SMS_EVENTS)

    data = json.loads(json_report.to_json(read(tmp_path / "ledger.db", "sms-sale")))

    figures = {
        "sent": 4,
        "delivered": 2,
        "bounced": 0,
        "hard_bounced": 0,
        "soft_bounced": 0,
        "complained": 0,
        "rejected": 0,
        "rendering_failed": 0,
        "delayed": 0,
        "opened": 0,
        "clicked": 0,
        "clicks": 0,
        "unsubscribed": 1,
        "suppressed": 0,
        "suppressed_by_reason": {},
        "failed": 3,
        "failed_by_reason": {"blocked:SPAM": 1, "failed:UNREACHABLE": 1, "throttled": 1},
        "links": [],
        "rates": {
            "delivery": 0.5,
            "bounce": 0.0,
            "hard_bounce": 0.0,
            "soft_bounce": 0.0,
            "complaint": 0.0,
            "reject": 0.0,
            "open": 0.0,
            "click": 0.0,
            "click_to_open": None,  # nothing opened: no denominator
            "unsubscribe": 0.5,
        },
    }
    assert data == {
        "schema": "pinrec.campaign-report/1",
        "campaign_id": "sms-sale",
        "generated_at": "2027-01-19T12:00:00+00:00",
        "channel": "sms",
        "ledger_rows": 5,
        "pending": 0,
        "events": 7,
        "last_event": "2027-01-15T11:00:00+00:00",
        "warnings": [],
        "channels": {"sms": figures},
        "total": figures,
        "series": {
            "start": "2027-01-15T08:00:00+00:00",
            "hours": 72,
            "bucket_seconds": 3600,
            "first_events": _series(send={0: 1}, delivery={0: 2}, failed={0: 1}, blocked={0: 1}, opt_out={3: 1}),
            "outside": 0,
        },
    }


def test_json_schema_keys_and_order_are_stable(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)

    data: dict[str, Any] = json.loads(json_report.to_json(read(tmp_path / "ledger.db", "spring")))

    assert list(data) == [
        "schema",
        "campaign_id",
        "generated_at",
        "channel",
        "ledger_rows",
        "pending",
        "events",
        "last_event",
        "warnings",
        "channels",
        "total",
        "series",
    ]
    for figures in [*data["channels"].values(), data["total"]]:
        assert list(figures) == FIGURE_KEYS
        assert list(figures["rates"]) == RATE_KEYS
        assert all(list(link) == ["link", "clicks", "unique"] for link in figures["links"])
    assert list(data["series"]) == ["start", "hours", "bucket_seconds", "first_events", "outside"]
    assert list(data["series"]["first_events"]) == list(SERIES_KINDS)
    assert data["total"]["links"][2] == {"link": HOSTILE_LINK, "clicks": 1, "unique": 1}
    assert data["warnings"][0] == {
        "channel": "email",
        "threshold": "ses_bounce_review",
        "rate": "hard_bounce",
        "level": "reached",
        "value": 0.181818,
        "numerator": 2,
        "denominator": 11,
        "limit": 0.05,
        "warn_from": 0.025,
        "authority": "Amazon SES",
        "message": "email hard bounce rate 18.182 % has reached 5 %, where SES places the account under review "
        "(Amazon SES)",
    }
    assert [warning["threshold"] for warning in data["warnings"]] == [
        "ses_bounce_review",
        "ses_bounce_pause",
        "ses_complaint_review",
        "mailbox_spam_rate",
        "ses_complaint_pause",
    ]


def test_sms_report_text(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", SMS, SMS_EVENTS)

    output = text.describe_report(read(tmp_path / "ledger.db", "sms-sale"))

    assert output.splitlines() == [
        "campaign sms-sale (sms): 5 ledger rows, 7 events, last event 2027-01-15T11:00:00+00:00",
        "sms",
        "  sent                      4",
        "  delivered                 2   50 % of sent",
        "  bounced                   0   0 % of sent",
        "  hard bounced              0   0 % of sent",
        "  soft bounced              0   0 % of sent",
        "  complained                0   0 % of delivered",
        "  rejected                  0   0 % of sent",
        "  rendering failed          0",
        "  delayed                   0",
        "  opened                    0   0 % of delivered",
        "  clicked                   0   0 % of delivered",
        "  clicks                    0",
        "  unsubscribed              1   50 % of delivered",
        "  suppressed                0",
        "  failed                    3   blocked:SPAM 1, failed:UNREACHABLE 1, throttled 1",
        "first 72 hours after the first send (2027-01-15T08:00:00+00:00): recipients by their first event, "
        "running total",
        "  after                1h       6h      24h      72h",
        "  send                  1        1        1        1",
        "  delivery              2        2        2        2",
        "  failed                1        1        1        1",
        "  blocked               1        1        1        1",
        "  opt_out               0        1        1        1",
    ]


def test_email_report_text_warns_first_and_escapes_links(tmp_path: Path) -> None:
    write(tmp_path / "ledger.db", EMAIL, EMAIL_EVENTS)

    lines = text.describe_report(read(tmp_path / "ledger.db", "spring")).splitlines()

    assert lines[1] == (
        "  pending rows (in progress or in doubt): 1; each counts as sent once an event of its message is recorded"
    )
    assert (
        lines[2]
        == "!! email hard bounce rate 18.182 % has reached 5 %, where SES places the account under review (Amazon SES)"
    )
    assert "  suppressed                3   complaint 2, bounce 1" in lines
    assert "  outside the window: 2" in lines
    (hostile,) = [line for line in lines if "javascript:" in line]
    # The newline and the terminal escape of the link are shown escaped, never written raw; the line is shortened.
    assert "\x1b" not in hostile and "\\n\\x1b" in hostile
    assert hostile.endswith("…") and len(hostile.strip()) < 120


def test_text_shows_the_top_20_links_and_json_all_of_them() -> None:
    from campaign_tools.report.figures import LedgerFacts, compute_report
    from campaign_tools.send.ledgers.base import LedgerSummary, MessageEvent

    events = [
        MessageEvent(
            "c", f"e{number}", f"click-{number}-{repeat}", "email", "click", 0.0, link=f"https://x.example/{number:02}"
        )
        for number in range(25)
        for repeat in range(number % 3 + 1)
    ]
    report = compute_report("c", LedgerFacts(LedgerSummary("c"), "email", {}, frozenset()), events, 0.0)

    lines = text.describe_report(report).splitlines()
    start = lines.index("  links (clicks, unique clickers), top 20:")
    shown = [line for line in lines[start + 1 :] if "https://x.example/" in line]
    assert len(shown) == 20
    assert shown[0].split() == ["3", "1", "https://x.example/02"]  # most clicks first, then by link
    assert len(json_report.report_dict(report)["total"]["links"]) == 25
