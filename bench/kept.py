"""What `python -m bench` keeps of the bench/RESULTS.md it replaces: the sections it does not generate (written by
hand, or by another bench script such as `bench/segments.py`) and the targets rows that point to them with a
footnote mark. Regenerating the file must not lose measurements it cannot make again itself."""

from __future__ import annotations

import re

FOOTNOTE_MARKS = "¹²³⁴⁵⁶⁷⁸⁹"
_BEGIN_MARKER = re.compile(r"<!-- .*: begin -->")


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, text) of each `## ` section in order, the text before the first as ("", ...). A `<!-- x: begin -->`
    marker line opens the section whose heading follows it (another script replaces the block between its markers)."""
    found: list[tuple[str, list[str]]] = [("", [])]
    lines = text.splitlines()
    for index, line in enumerate(lines):
        opens_block = _BEGIN_MARKER.fullmatch(line.strip()) is not None
        follows_marker = index > 0 and _BEGIN_MARKER.fullmatch(lines[index - 1].strip()) is not None
        if line.startswith("## ") and not follows_marker:
            found.append((line[3:].strip(), [line]))
        elif opens_block:
            heading = (
                lines[index + 1][3:].strip() if index + 1 < len(lines) and lines[index + 1].startswith("## ") else line
            )
            found.append((heading, [line]))
        else:
            found[-1][1].append(line)
    return [(heading, "\n".join(body).strip("\n")) for heading, body in found]


def _target(row: str) -> str:
    return row.strip().strip("|").split("|", 1)[0].strip()


def _target_rows(text: str) -> list[str]:
    for heading, body in sections(text):
        if heading == "Targets":
            return [line for line in body.splitlines() if line.startswith("| ") and not line.startswith("| target |")]
    return []


def carry_over(generated: str, previous: str, generated_headings: tuple[str, ...]) -> str:
    """`generated` with what `previous` had that no run of the generator writes: sections whose heading starts with
    none of `generated_headings`, appended in their order, and footnoted targets rows for targets it does not measure,
    appended to its targets table."""
    ours = {_target(row) for row in _target_rows(generated)}
    rows = [
        row
        for row in _target_rows(previous)
        if _target(row) not in ours and any(mark in row for mark in FOOTNOTE_MARKS)
    ]
    text = generated.rstrip("\n")
    if rows:
        table = _target_rows(text)
        if table:
            last = table[-1]
            text = text.replace(last + "\n", last + "\n" + "\n".join(rows) + "\n", 1)
    kept = [
        body
        for heading, body in sections(previous)[1:]
        if not any(heading.startswith(prefix) for prefix in generated_headings)
    ]
    return "\n\n".join([text, *kept]) + "\n"
