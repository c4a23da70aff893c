"""Render a template part for one endpoint the way Pinpoint substitutes it."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from dotpromptz_handlebars import HelperOptions, SafeString
from dotpromptz_handlebars._render import render_program

from campaign_tools.rendering.compiled import compile_nodes
from campaign_tools.rendering.defaults import Segments, index_defaults, parse_default_substitutions
from campaign_tools.rendering.errors import HelperError, TemplateRenderError
from campaign_tools.rendering.helpers import pinpoint_helpers
from campaign_tools.rendering.program import (
    BRANCH_MARKER,
    DEFAULT_HELPER,
    DROP_PARTIAL_BLOCK,
    KEY_HELPER,
    LENGTH_HELPER,
    LINE_MARKER,
    NO_DEFAULT,
    PARTIAL_BLOCK_BODY,
    PRINT_HELPER,
    SAVE_PARTIAL_BLOCK,
    Program,
    compile_program,
)
from campaign_tools.rendering.values import has_no_value, is_list, to_text

_COMPILED_CACHE_SIZE = 256
PLAIN_HELPERS = frozenset({LINE_MARKER, BRANCH_MARKER, DEFAULT_HELPER, PRINT_HELPER, KEY_HELPER, LENGTH_HELPER})
"""pinrec's own helpers that read only their arguments and `options.data`: compiled calls skip `HelperOptions`."""


@dataclass(frozen=True)
class BranchHit:
    """One branch a block took while rendering: `{{#if}}` on line 12 took "else"; `{{#each}}` ran 3 times."""

    template: str
    line: int
    helper: str  # "if", "unless", "each", "with", "eq", "and", ...
    branch: str  # "then" | "else" | "each(n)" | "empty"


@dataclass(frozen=True)
class Rendered:
    text: str
    branches: tuple[BranchHit, ...]


@dataclass
class _RenderState:
    program: Program
    template: str
    defaults: dict[Segments, str]
    encode: Callable[[str], str] | None = None
    line: int = 0
    hits: dict[tuple[int, str, str], BranchHit] = field(default_factory=dict)
    # Per partial block id: the @partial-block where the block was written (a stack: partials may recurse).
    saved_partial_blocks: dict[int, list[Any]] = field(default_factory=dict)


_STATE: ContextVar[_RenderState] = ContextVar("pinrec_render_state")


class PinpointRenderer:
    """Handlebars with Pinpoint's helpers and substitution rules; reusable and safe to share across threads.

    `now` returns the moment `{{now}}` prints (an aware datetime; naive means UTC) and `uuid` the text
    `{{uuid}}` prints; inject both for repeatable output.
    """

    def __init__(
        self,
        *,
        now: Callable[[], datetime] | None = None,
        uuid: Callable[[], str] | None = None,
        compiled: bool = True,
    ) -> None:
        clock = now or (lambda: datetime.now(UTC))
        make_uuid = uuid or (lambda: str(uuid_module.uuid4()))
        helpers: dict[str, Callable[[list[Any], HelperOptions], Any]] = pinpoint_helpers(
            clock=clock, make_uuid=make_uuid
        )
        self._helper_names = frozenset(helpers)
        helpers[LINE_MARKER] = _mark_line
        helpers[BRANCH_MARKER] = _mark_branch
        helpers[DEFAULT_HELPER] = _substitute_default
        helpers[PRINT_HELPER] = _print
        helpers[KEY_HELPER] = _key
        helpers[LENGTH_HELPER] = _length
        helpers[SAVE_PARTIAL_BLOCK] = _save_partial_block
        helpers[PARTIAL_BLOCK_BODY] = _partial_block_body
        helpers[DROP_PARTIAL_BLOCK] = _drop_partial_block
        self._helpers = helpers
        self._compiled = compiled
        self._compile = lru_cache(maxsize=_COMPILED_CACHE_SIZE)(self._compile_uncached)

    @property
    def helper_names(self) -> frozenset[str]:
        """The helpers a template may call (Pinpoint's documented set plus `lookup`)."""
        return self._helper_names

    def check(self, source: str, *, name: str = "template") -> None:
        """Parse source without rendering; raises TemplateRenderError naming the line of a syntax error."""
        self._compile(source, name)

    def render(
        self,
        source: str,
        endpoint: Mapping[str, Any],
        *,
        default_substitutions: Mapping[str, str] | str | None = None,
        name: str = "template",
        escape: bool = True,
        encode: Callable[[str], str] | None = None,
    ) -> Rendered:
        """What Pinpoint would send for this endpoint.

        A variable with no value (absent, null, "" or an empty list) takes its DefaultSubstitutions value,
        looked up by the path as written and then without trailing `.[N]` (see `defaults`), else prints
        nothing. `escape=True` HTML-escapes `{{x}}` like handlebars.js (`& < > " ' \\` =`); `{{{x}}}` never is.
        `encode`, when given, replaces escaping for every value a tag prints, `{{{x}}}` included: e.g.
        percent-encoding, so that values substituted into a URL stay data.
        """
        program = self._compile(source, name)
        defaults = (
            parse_default_substitutions(default_substitutions, template=name)
            if isinstance(default_substitutions, str)
            else default_substitutions
        )
        state = _RenderState(program, name, _index(defaults), encode)
        token = _STATE.set(state)
        try:
            if program.render is not None:
                text = program.render(endpoint, escape)
            else:
                text = self._engine(program, endpoint, escape)
        except TemplateRenderError:
            raise
        except (HelperError, ValueError, RecursionError) as err:
            line = state.line if program.render is None else self._failing_line(program, endpoint, escape, state)
            raise TemplateRenderError(name, line or None, _reason(err)) from err
        finally:
            _STATE.reset(token)
        return Rendered(text, tuple(state.hits.values()))

    def _engine(self, program: Program, endpoint: Mapping[str, Any], escape: bool) -> str:
        return str(
            render_program(
                program.nodes, endpoint, data=None, helpers=self._helpers, partials={}, escape_html=escape, strict=False
            )
        )

    def _failing_line(self, program: Program, endpoint: Mapping[str, Any], escape: bool, state: _RenderState) -> int:
        """The line a compiled program failed on: compiled programs leave the line markers out (they are most of a
        program's calls), so the engine renders the same program again, markers and all, up to the same error."""
        again = _RenderState(program, state.template, state.defaults, state.encode)
        token = _STATE.set(again)
        try:
            self._engine(program, endpoint, escape)
        except (HelperError, ValueError, RecursionError):
            return again.line
        finally:
            _STATE.reset(token)
        return 0

    def _compile_uncached(self, source: str, name: str) -> Program:
        program = compile_program(source, template=name, helper_names=self._helper_names)
        if not self._compiled:
            return program
        return replace(
            program,
            render=compile_nodes(
                program.nodes,
                self._helpers,
                PLAIN_HELPERS,
                left_out=frozenset({LINE_MARKER}),
                direct={PRINT_HELPER: _compiled_print},
            ),
        )


def _index(defaults: Mapping[str, str] | None) -> dict[Segments, str]:
    if not defaults:
        return {}
    try:
        return _indexed(tuple(defaults.items()))
    except TypeError:  # a value that cannot be hashed: indexed for this render only
        return index_defaults(defaults)


@lru_cache(maxsize=_COMPILED_CACHE_SIZE)
def _indexed(defaults: tuple[tuple[str, str], ...]) -> dict[Segments, str]:
    """`index_defaults`, once per set of DefaultSubstitutions (a template renders every endpoint with the same)."""
    return index_defaults(dict(defaults))


def _reason(err: Exception) -> str:
    message = str(err)
    if message.startswith("Missing helper:"):
        helper = message.split(":", 1)[1].strip().strip('"')
        return f"{helper!r} is not a helper Pinpoint documents"
    if isinstance(err, RecursionError):
        return "templates nest too deeply (a partial that includes itself?)"
    return message


def _mark_line(args: list[Any], options: HelperOptions) -> str:
    _STATE.get().line = args[0]
    return ""


def _mark_branch(args: list[Any], options: HelperOptions) -> str:
    state = _STATE.get()
    block_id, taken = args
    info = state.program.blocks[block_id]
    if info.helper == "each" and taken:
        data = options.data
        if not data.get("last"):
            return ""
        branch = f"each({data.get('index', 0) + 1})"
    elif info.helper == "each":
        branch = "empty"
    else:
        branch = "then" if taken else "else"
    key = (info.line, info.helper, branch)
    if key not in state.hits:
        state.hits[key] = BranchHit(state.template, info.line, info.helper, branch)
    return ""


def _print(args: list[Any], options: HelperOptions) -> Any:
    return _printed(_with_default(*args))


def _compiled_print(arguments: list[Callable[[Any], Any]]) -> Callable[[Any], Any] | None:
    """`{{pinrec:print value id}}` in a compiled program: what `_print` does, with no argument list or options."""
    if len(arguments) != 2:
        return None
    value_of, default_of = arguments
    return lambda env: _printed(_with_default(value_of(env), default_of(env)))


def _printed(value: Any) -> Any:
    text = value if isinstance(value, SafeString) else to_text(value)
    encode = _STATE.get().encode
    return text if encode is None else SafeString(encode(str(text)))


def _substitute_default(args: list[Any], options: HelperOptions) -> Any:
    return _with_default(*args)


def _with_default(value: Any, default_id: Any) -> Any:
    if default_id != NO_DEFAULT and has_no_value(value):
        state = _STATE.get()
        for key in state.program.default_keys[default_id]:
            if key in state.defaults:
                return state.defaults[key]
    return value


def _key(args: list[Any], options: HelperOptions) -> Any:
    base, key = args
    if isinstance(base, Mapping):
        return base.get(key)
    if is_list(base) and key.isdigit() and int(key) < len(base):
        return base[int(key)]
    return None


def _length(args: list[Any], options: HelperOptions) -> Any:
    (base,) = args
    if is_list(base):
        return len(base)
    return base.get("length") if isinstance(base, Mapping) else None


def _save_partial_block(args: list[Any], options: HelperOptions) -> str:
    _STATE.get().saved_partial_blocks.setdefault(args[0], []).append(options.data.get("partial-block"))
    return ""


def _drop_partial_block(args: list[Any], options: HelperOptions) -> str:
    _STATE.get().saved_partial_blocks[args[0]].pop()
    return ""


def _partial_block_body(args: list[Any], options: HelperOptions) -> Any:
    """A partial block's body, run as the fallback of a missing partial or as a partial's {{> @partial-block}}.

    `options.data` is the frame the body renders in (the engine passes the dict itself): while the body runs,
    its @partial-block is the one where the block was written. As a fallback (the frame still holds that value)
    the body takes the block's context, if it names one.
    """
    saved = _STATE.get().saved_partial_blocks[args[0]][-1]
    frame = options.data
    replaced = frame.get("partial-block")
    frame["partial-block"] = saved
    try:
        if replaced is saved and len(args) > 1:
            return options.fn(args[1])
        return options.fn()
    finally:
        frame["partial-block"] = replaced
