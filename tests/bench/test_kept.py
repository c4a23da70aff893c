"""Regenerating bench/RESULTS.md keeps what the generator cannot measure again: hand-written sections, another
script's marked block, and the footnoted targets rows that point to them."""

from __future__ import annotations

from bench.kept import carry_over, sections

PREVIOUS = """# results

Command: old run.

## Targets

| target | goal | measured | |
|---|---|---|---|
| hot ratio | ≥ 60× | 38× | **missed** |
| events ingestion | ≥ 2,000/s | 5,147/s ¹ | met |
| engagement forwarding | ≥ 1,000/s | 1,566/s ² | met |

## 1. Batch latency

old table

## Where a target is missed, and what bounds it

- hot ratio: old reason

## Tried and rejected

- a hand-written note

<!-- segment build: begin -->
## Segment build

segment table
<!-- segment build: end -->

## Engagement forwarding

² engagement runs
"""

GENERATED = """# results

Command: new run.

## Targets

| target | goal | measured | |
|---|---|---|---|
| hot ratio | ≥ 60× | 75× | met |
| events ingestion | ≥ 2,000/s | 5,500/s | met |

## 1. Batch latency

new table
"""

HEADINGS = ("Targets", "1. Batch latency", "Where a target is missed")


def test_hand_sections_and_marked_blocks_are_kept_in_order_after_the_generated_report() -> None:
    merged = carry_over(GENERATED, PREVIOUS, HEADINGS)
    assert [heading for heading, _ in sections(merged)] == [
        "",
        "Targets",
        "1. Batch latency",
        "Tried and rejected",
        "Segment build",
        "Engagement forwarding",
    ]
    assert "new table" in merged and "old table" not in merged
    assert "<!-- segment build: begin -->\n## Segment build\n\nsegment table\n<!-- segment build: end -->" in merged


def test_a_section_the_generator_writes_only_when_it_applies_is_dropped_not_kept_stale() -> None:
    merged = carry_over(GENERATED, PREVIOUS, HEADINGS)
    assert "old reason" not in merged


def test_footnoted_rows_for_targets_the_generator_does_not_measure_join_its_table() -> None:
    merged = carry_over(GENERATED, PREVIOUS, HEADINGS)
    table = dict(sections(merged))["Targets"].splitlines()
    assert table[-1] == "| engagement forwarding | ≥ 1,000/s | 1,566/s ² | met |"
    assert "| events ingestion | ≥ 2,000/s | 5,500/s | met |" in table
    assert not any("5,147" in row or "38×" in row for row in table)


def test_regenerating_twice_changes_nothing_more() -> None:
    once = carry_over(GENERATED, PREVIOUS, HEADINGS)
    assert carry_over(GENERATED, once, HEADINGS) == once
