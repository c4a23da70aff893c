"""Whoever edits a template cannot run code as the person or CI job that lints, builds or previews it.

The class: any jinja2 expression that climbs from an object the source can name (the jinja2 globals, pinrec's own
functions and manifest, literals) through dunder attributes to Python's globals or builtins, whichever syntax it
uses (`.x`, `['x']`, `|attr('x')`), or that exhausts memory, the stack or the output, in any source file kind
(subject, MJML, HTML, text, SMS, push), through any command that renders sources (lint, build, preview). Each one
fails that command with an error naming the source file; nothing runs and nothing is written.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.cli import main
from campaign_tools.templates.manifest import builtin_templates_dir

HTML_EMAIL = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>x</title></head><body>\n'
    "<p>[[ rec('Title', 0) ]]</p>\n<p>[[ unsubscribe('Unsubscribe') ]]</p>\n</body></html>\n"
)

# Each kind of source file: (shipped template to start from, the file, how to make the template use that kind).
KINDS: dict[str, tuple[str, str]] = {
    "subject": ("recommended-for-you", "email-subject.jinja"),
    "mjml": ("recommended-for-you", "email.mjml.jinja"),
    "html": ("recommended-for-you", "email.html.jinja"),
    "text": ("offer", "email-text.jinja"),
    "sms": ("recommended-for-you", "sms.jinja"),
    "push-title": ("recommended-for-you", "push-title.jinja"),
    "push-body": ("offer", "push-body.jinja"),
    "push-url": ("offer", "push-url.jinja"),
}
ACTIONS = ("lint", "build", "preview")

KNOWN_ESCAPES = (
    "cycler.__init__.__globals__.os.popen('touch MARKER').read()",
    "lipsum.__globals__['os'].popen('touch MARKER').read()",
    "''.__class__.__mro__[1].__subclasses__()",
    "self.__init__.__globals__",
    "config.items()",
    "request.application.__globals__.__builtins__",
    "range(10**9)|list",
    "cycler|attr('__init__')|attr('__globals__')|attr('__getitem__')('os')|attr('popen')('touch MARKER')",
    "joiner.__init__.__globals__.os.system('touch MARKER')",
    "namespace.__init__.__globals__['os'].system('touch MARKER')",
    "'{0.__class__.__init__.__globals__}'.format(cycler)",
    "manifest.__class__.__init__.__globals__",
    "var.__func__.__globals__['os'].system('touch MARKER')",
    "rec.__self__._source",
    "items.__class__.__base__.__subclasses__()",
    "'x' * 10**9",
    "[0] * 10**9",
    "'x'|center(10**9)",
    "'x'|indent(10**9)",
    "[1]|batch(10**9, 0)|list",
    "[1]|slice(10**9, 0)|list",
    "'x'.ljust(10**9)",
    "'x'.zfill(10**9)",
    "'{:>999999999}'.format(1)",
    "'{:{}}'.format(1, 10**9)",
    "'%999999999d' % 1",
    "'%*d' % (10**9, 1)",
    "'%999999999s'|format(1)",
    "lipsum(1000000)",
    "10**100000",
    "(10**1000)**1000",
)
RUNAWAY_BLOCKS = (
    "[% macro again() %][[ again() ]][% endmacro %][[ again() ]]",
    "[% for i in range(100000) %][[ 'x' * 100000 ]][% endfor %]",
)

ROOTS = (
    "cycler",
    "joiner",
    "lipsum",
    "namespace",
    "self",
    "manifest",
    "items",
    "path",
    "var",
    "rec",
    "utm",
    "when",
    "''",
    "()",
    "[]",
    "{}",
    "0",
    "loop",
)
DUNDERS = (
    "__init__",
    "__globals__",
    "__class__",
    "__mro__",
    "__base__",
    "__subclasses__",
    "__func__",
    "__self__",
    "__builtins__",
    "__dict__",
    "__module__",
    "__getattribute__",
    "__reduce_ex__",
    "__code__",
)
TAILS = (
    ".os.popen('touch MARKER').read()",
    "['os'].system('touch MARKER')",
    "['__import__']('os').system('touch MARKER')",
    "['open']('MARKER', 'w').write('x')",
    "",
)


def accessor(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from((f".{name}", f"['{name}']", f"|attr('{name}')"))


escape_expressions = st.builds(
    lambda root, steps, tail: f"{root}{''.join(steps)}{tail}",
    st.sampled_from(ROOTS),
    st.lists(st.sampled_from(DUNDERS).flatmap(accessor), min_size=1, max_size=4),
    st.sampled_from(TAILS),
)


def template_with(root: Path, kind: str, source: str) -> Path:
    """A copy of the shipped template whose `kind` source also holds `source` (one-line parts on their line)."""
    template, file = KINDS[kind]
    folder = root / f"{template}-{kind}"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(builtin_templates_dir() / template, folder)
    if kind == "html":
        (folder / "email.mjml.jinja").unlink()
        (folder / file).write_text(HTML_EMAIL, encoding="utf-8")
    path = folder / file
    text = path.read_text(encoding="utf-8")
    joined = f"{text.rstrip()} {source}\n" if "\n" not in text.rstrip() else f"{text}\n{source}\n"
    path.write_text(joined, encoding="utf-8")
    return folder


Run = Callable[[str, Path], tuple[int, str]]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run `pinrec templates ACTION FOLDER` in tmp_path; its exit status and everything it printed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PINREC_CONFIG", raising=False)

    def invoke(action: str, folder: Path) -> tuple[int, str]:
        arguments = ["templates", action, str(folder)]
        if action != "lint":
            arguments += ["--out", str(tmp_path / "out" / action)]
        status = main(arguments)
        printed = capsys.readouterr()
        return status, printed.out + printed.err

    return invoke


def assert_refused(run: Run, root: Path, kind: str, action: str, source: str) -> None:
    marker = root / "MARKER"
    folder = template_with(root, kind, source.replace("MARKER", str(marker)))
    status, printed = run(action, folder)
    assert status == 1, f"{action} accepted {source!r} in {kind}:\n{printed}"
    assert KINDS[kind][1] in printed, printed
    assert not marker.exists(), f"{source!r} ran code during {action}"
    assert "uid=" not in printed


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("source", [f"[[ {escape} ]]" for escape in KNOWN_ESCAPES] + list(RUNAWAY_BLOCKS))
def test_known_escapes_fail_the_build_in_every_source_kind(run: Run, tmp_path: Path, kind: str, source: str) -> None:
    assert_refused(run, tmp_path, kind, "build", source)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_refuses_an_escape_in_every_source_kind(run: Run, tmp_path: Path, kind: str, action: str) -> None:
    assert_refused(run, tmp_path, kind, action, f"[[ {KNOWN_ESCAPES[0]} ]]")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=escape_expressions, kind=st.sampled_from(tuple(KINDS)), action=st.sampled_from(ACTIONS))
def test_no_generated_escape_runs_code(run: Run, tmp_path: Path, expression: str, kind: str, action: str) -> None:
    assert_refused(run, tmp_path, kind, action, f"[[ {expression} ]]")


def test_the_shipped_templates_still_build_in_the_sandbox(run: Run, tmp_path: Path) -> None:
    for name in ("recommended-for-you", "offer"):
        status, printed = run("build", builtin_templates_dir() / name)
        assert status == 0, printed


# Symbolic links: the loader and the sample event would follow them out of the folder.

LINK_TARGETS = ("email-subject.jinja", "email.mjml.jinja", "sms.jinja", "push-body.jinja", "sample-event.json")


def linked_template(root: Path, replaced: str) -> Path:
    """A copy of recommended-for-you whose `replaced` file is a symbolic link to a file outside the folder."""
    folder = root / "linked"
    shutil.copytree(builtin_templates_dir() / "recommended-for-you", folder)
    outside = root / f"outside-{replaced}"
    outside.write_bytes((folder / replaced).read_bytes())
    (folder / replaced).unlink()
    (folder / replaced).symlink_to(outside)
    return folder


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("replaced", LINK_TARGETS)
def test_a_template_folder_holding_a_symlink_is_refused(run: Run, tmp_path: Path, action: str, replaced: str) -> None:
    status, printed = run(action, linked_template(tmp_path, replaced))
    assert status == 1
    assert f"{replaced}: a template folder may not hold symbolic links" in printed


@pytest.mark.parametrize("action", ACTIONS)
def test_a_linked_subfolder_or_an_include_outside_is_refused(run: Run, tmp_path: Path, action: str) -> None:
    folder = tmp_path / "rfy"
    shutil.copytree(builtin_templates_dir() / "recommended-for-you", folder)
    (folder / "partials").symlink_to(tmp_path)
    status, printed = run(action, folder)
    assert status == 1 and "partials: a template folder may not hold symbolic links" in printed
    (folder / "partials").unlink()
    subject = folder / "email-subject.jinja"
    subject.write_text("[% include '../../etc/hostname' %]\n", encoding="utf-8")
    status, printed = run(action, folder)
    assert status == 1 and "email-subject.jinja" in printed


@pytest.mark.parametrize("action", ACTIONS)
def test_a_sample_event_outside_the_folder_is_refused(run: Run, tmp_path: Path, action: str) -> None:
    folder = tmp_path / "rfy"
    shutil.copytree(builtin_templates_dir() / "recommended-for-you", folder)
    shutil.move(folder / "sample-event.json", tmp_path / "sample-event.json")
    manifest = folder / "template.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('"sample-event.json"', '"../sample-event.json"'), encoding="utf-8")
    status, printed = run(action, folder)
    assert status == 1 and "sample_event ../sample-event.json is outside" in printed
