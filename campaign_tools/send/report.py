"""What a send and a ledger say: the run summary and the ledger status, as text and as JSON-ready data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from campaign_tools.send.ledgers.base import LedgerRow, LedgerSummary
from campaign_tools.send.pipeline import RunSummary
from campaign_tools.send.recommendations.base import RecommendationSource


def _reasons(counter: Counter[str]) -> str:
    return ", ".join(f"{reason} {count:,}" for reason, count in counter.most_common())


def describe_run(summary: RunSummary, source: RecommendationSource, prominent: Sequence[str] = ()) -> str:
    """The summary; `prominent` lines come right after its first line."""
    skipped = summary.all_skipped()
    verb = "would send" if summary.dry_run else "sent"
    rate = summary.sent / summary.seconds if summary.seconds > 0 else 0.0
    lines = [
        f"campaign {summary.campaign_id}: {verb} {summary.sent:,}, skipped {sum(skipped.values()):,}, "
        f"failed {sum(summary.failed.values()):,} of {summary.segment.rows:,} rows in {summary.seconds:.2f}s "
        f"({rate:,.0f} messages/s)",
        *prominent,
    ]
    if skipped:
        lines.append(f"  skipped: {_reasons(skipped)}")
    if summary.failed:
        lines.append(f"  failed: {_reasons(summary.failed)} (a re-run retries them)")
    if summary.throttled_retries:
        lines.append(f"  throttled: {summary.throttled_retries:,} retries after backoff")
    if summary.segment.malformed:
        examples = "; ".join(f"line {line}: {reason}" for line, reason in summary.segment.malformed_examples)
        lines.append(f"  malformed segment rows: {summary.segment.malformed:,} skipped ({examples})")
    if not summary.dry_run:
        lines.append(describe_recorded(summary))
    lines += source.report()
    if skipped.get("in_progress") or skipped.get("in_doubt"):
        lines.append(
            "  pending from an earlier run: 'in_progress' rows become 'in doubt' after the lease; the next run settles "
            "them from their delivery events (`pinrec send status` lists them); --retry-pending sends them all again "
            "(perhaps a second time)"
        )
    if summary.stopped:
        lines.append(f"  stopped early: {summary.stopped}")
    return "\n".join(lines)


def describe_recorded(summary: RunSummary) -> str:
    """How the summary maps onto `pinrec send status`: what this run wrote to the ledger, and what it only counted."""
    recorded = summary.recorded_skipped()
    written = summary.sent + sum(recorded.values()) + sum(summary.failed.values())
    line = (
        f"  in the ledger: {written:,} rows written ({summary.sent:,} sent, {sum(recorded.values()):,} skipped, "
        f"{sum(summary.failed.values()):,} failed)"
    )
    not_recorded = summary.not_recorded()
    return line + (f"; counted here only: {_reasons(not_recorded)}" if not_recorded else "")


def run_dict(summary: RunSummary) -> dict[str, Any]:
    return {
        "campaign_id": summary.campaign_id,
        "dry_run": summary.dry_run,
        "rows": summary.segment.rows,
        "sent": summary.sent,
        "skipped": dict(summary.all_skipped()),
        "failed": dict(summary.failed),
        "throttled_retries": summary.throttled_retries,
        "malformed": summary.segment.malformed,
        "malformed_examples": [{"line": line, "reason": reason} for line, reason in summary.segment.malformed_examples],
        "recorded": {"sent": summary.sent, "skipped": dict(summary.recorded_skipped()), "failed": dict(summary.failed)},
        "not_recorded": dict(summary.not_recorded()),
        "seconds": round(summary.seconds, 3),
        "stopped": summary.stopped,
    }


def _when(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds") if epoch is not None else "-"


def describe_status(summary: LedgerSummary) -> str:
    lines = [
        f"campaign {summary.campaign_id}: {summary.total:,} endpoints in the ledger",
        f"  sent      {summary.sent:,}",
        f"  skipped   {sum(summary.skipped.values()):,}"
        + (f"  ({_reasons(summary.skipped)})" if summary.skipped else ""),
        f"  failed    {sum(summary.failed.values()):,}" + (f"  ({_reasons(summary.failed)})" if summary.failed else ""),
        f"  pending   {summary.pending_in_lease:,} in progress, {summary.pending_in_doubt:,} in doubt",
    ]
    if summary.pending_in_doubt:
        lines.append(
            f"  in doubt since {_when(summary.oldest_pending)}: a run died between delivering and recording; the "
            "next run (or `pinrec send reconcile`) settles them from their delivery events; --retry-pending sends "
            "them all again (they may already have received it)"
        )
    lines.append(f"  first activity {_when(summary.first_at)}, last {_when(summary.last_at)}")
    return "\n".join(lines)


def status_dict(summary: LedgerSummary) -> dict[str, Any]:
    return {
        "campaign_id": summary.campaign_id,
        "total": summary.total,
        "sent": summary.sent,
        "skipped": dict(summary.skipped),
        "failed": dict(summary.failed),
        "pending_in_progress": summary.pending_in_lease,
        "pending_in_doubt": summary.pending_in_doubt,
        "oldest_pending": _when(summary.oldest_pending),
        "first_activity": _when(summary.first_at),
        "last_activity": _when(summary.last_at),
    }


def describe_row(row: LedgerRow) -> str:
    return f"{row.endpoint_id}\t{row.reason or '-'}\t{row.attempts}\t{_when(row.updated_at)}"


def row_dict(row: LedgerRow) -> dict[str, Any]:
    return {
        "endpoint_id": row.endpoint_id,
        "state": row.state,
        "reason": row.reason,
        "attempts": row.attempts,
        "updated_at": _when(row.updated_at),
    }
