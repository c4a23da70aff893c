"""A parsed Handlebars program compiled once into Python closures, rendering exactly as the engine does.

The engine (dotpromptz-handlebars) interprets its node tree on every render: each tag's tokens (`Recommendations.
Title.[0]`, `"text"`, `(helper x)`) are classified and split into path segments character by character, and every
step passes its environment as a fresh keyword dict. Rendering one 28 KB email that way costs milliseconds. Here each
token is classified and each path split once, when the program is compiled, into a closure; a render only walks the
data. The closures mirror the engine's `_render_one`, `_eval_block`, `_eval_call`, `_value`, `_context_path`,
`_data_path` and `_step` (render_program with strict=False, as the renderer calls it), including when each error is
raised: a bad token raises when it is evaluated, never at compile time. A program holding partials (or nested deeper
than the engine's depth limit allows for) is not compiled: the engine renders it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dotpromptz_handlebars import Block, HelperOptions, Mustache, SafeString, Text
from dotpromptz_handlebars._render import (
    _BUILTINS,
    _ESCAPE,
    _MAX_DEPTH,
    _MISSING,
    _call,
    _if_shows,
    _is_empty,
    _js_text,
    _number,
    _param_scope,
    _parts,
    _reject_function,
    _Unbound,
    _unescape,
)

SUPPORTED_DEPTH = _MAX_DEPTH // 2
"""Programs nested deeper are left to the engine, whose depth limit then applies as always."""


class Env:
    """The engine's render environment (strict is always False): scopes, block params and data frames."""

    __slots__ = ("blocks", "escape", "frames", "scopes")

    def __init__(self, scopes: list[Any], blocks: list[dict[str, Any]], frames: list[dict[str, Any]], escape: bool):
        self.scopes = scopes
        self.blocks = blocks
        self.frames = frames
        self.escape = escape

    def pushed(self, context: Any, params: dict[str, Any], frame: dict[str, Any] | None = None) -> Env:
        return Env(
            [*self.scopes, context],
            [*self.blocks, params],
            self.frames if frame is None else [*self.frames, frame],
            self.escape,
        )


Getter = Callable[[Env], Any]
Piece = Callable[[Env], str]
CompiledProgram = Callable[[Any, bool], str]
"""(context, escape_html) -> the rendered text."""


class NotCompilable(Exception):
    """The program uses what only the engine renders (partials); render it with the engine."""


class PlainOptions:
    """What a plain helper is given instead of `HelperOptions`: the data frame and the hash, no block."""

    __slots__ = ("data", "hash")
    is_block = False

    def __init__(self, data: dict[str, Any], hash: dict[str, Any]) -> None:
        self.data = data
        self.hash = hash


def compile_nodes(
    nodes: list[Any],
    helpers: Mapping[str, Any],
    plain: frozenset[str] = frozenset(),
    left_out: frozenset[str] = frozenset(),
    direct: Mapping[str, Callable[[list[Getter]], Getter | None]] | None = None,
) -> CompiledProgram | None:
    """The program as one closure, or None when the engine must render it. `plain` names helpers that read only
    their arguments, `options.data` and `options.hash`: called outside a block, they get a `PlainOptions`.
    `left_out` names helpers that print nothing and whose calls (`{{name ...}}`, not blocks) the closure skips:
    bookkeeping that only the engine's rendering needs. `direct` gives, for some plain helpers, a closure maker
    that takes the call's argument getters and returns the call's getter, or None to call the helper as usual (for
    calls without a hash)."""
    try:
        body = _Compiler(helpers, plain, left_out, direct or {}).nodes(nodes, 0)
    except NotCompilable:
        return None

    def render(context: Any, escape: bool) -> str:
        return body(Env([context], [{}], [{"root": context}], escape))

    return render


def _raiser(error: Exception) -> Getter:
    kind, arguments = type(error), error.args

    def fail(env: Env) -> Any:
        raise kind(*arguments)

    return fail


def _text(text: str) -> Piece:
    return lambda env: text


def _constant(value: Any) -> Getter:
    def constant(env: Env) -> Any:
        return value

    _CONSTANTS.add(constant)
    return constant


_CONSTANTS: weakref.WeakSet[Getter] = weakref.WeakSet()
"""The getters `_constant` made: their value needs no environment."""
_NO_ENV = Env([], [], [], escape=False)


LITERAL_WORDS = {"true": True, "false": False}


def _literal(token: str) -> Any:
    """A quoted string's, `true`'s, `false`'s or a number's value; _MISSING for any other token."""
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return _unescape(token)
    if token in LITERAL_WORDS:
        return LITERAL_WORDS[token]
    number = _number(token)
    return _MISSING if number is None else number


def _step(current: Any, part: str) -> Any:
    kind = type(current)
    if kind is dict:
        return current.get(part)
    if kind is list:
        index = int(part) if part.isdigit() else len(current)
        return current[index] if index < len(current) else None
    if current is None or kind is str:
        return None
    if isinstance(current, Mapping) and part in current:
        return current[part]
    if isinstance(current, Sequence) and not isinstance(current, str | bytes) and str(part).isdigit():
        index = int(part)
        if 0 <= index < len(current):
            return current[index]
    return None


_ESCAPES = sorted(((chr(code), escaped) for code, escaped in _ESCAPE.items()), key=lambda pair: pair[0] != "&")
"""The engine's escapes, `&` first: no other escape's text holds a character escaped after it."""


def _escaped(text: str) -> str:
    """`text.translate(_ESCAPE)`, the engine's HTML escaping, as one `replace` per escaped character: `translate`
    with a dict looks each character up in Python, the most expensive step of printing a long value (a URL)."""
    for char, escaped in _ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


def _show(value: Any, raw: bool, escape: bool) -> str:
    if callable(value):
        _reject_function(value)
    if type(value) is str:
        return value if raw or not escape else _escaped(value)
    text = _js_text(value)
    if isinstance(value, SafeString) or raw or not escape:
        return text
    return _escaped(text)


def _join(pieces: list[Piece]) -> Piece:
    if not pieces:
        return lambda env: ""
    if len(pieces) == 1:
        return pieces[0]
    return lambda env: "".join([piece(env) for piece in pieces])


def _iterate(items: Any, body: Piece, inverse: Piece, params: list[str], env: Env) -> str:
    if isinstance(items, Mapping):
        pairs: list[tuple[Any, Any]] = list(items.items())
    elif isinstance(items, Sequence) and not isinstance(items, str | bytes):
        pairs = list(enumerate(items))
    else:
        return inverse(env)
    if not pairs:
        return inverse(env)
    parts: list[str] = []
    last = len(pairs) - 1
    for index, (key, item) in enumerate(pairs):
        frame = {**env.frames[-1], "key": key, "index": index, "first": index == 0, "last": index == last}
        parts.append(body(env.pushed(item, _param_scope(params, item, key), frame)))
    return "".join(parts)


class _Compiler:
    def __init__(
        self,
        helpers: Mapping[str, Any],
        plain: frozenset[str],
        left_out: frozenset[str],
        direct: Mapping[str, Callable[[list[Getter]], Getter | None]],
    ) -> None:
        self.helpers = helpers
        self.plain = plain
        self.left_out = left_out
        self.direct = direct

    def nodes(self, nodes: list[Any], depth: int) -> Piece:
        if depth > SUPPORTED_DEPTH:
            raise NotCompilable
        pieces: list[Piece] = []
        for node in nodes:
            if isinstance(node, Text):
                pieces.append(_text(str(node.value)))
            elif isinstance(node, Mustache):
                if node.call["name"] not in self.left_out:
                    pieces.append(self.mustache(node, depth + 1))
            elif isinstance(node, Block):
                pieces.append(self.block(node, depth + 1))
            else:
                raise NotCompilable
        return _join(pieces)

    def mustache(self, node: Mustache, depth: int) -> Piece:
        value = self.call(node.call, None, False, depth)
        raw = bool(node.raw)
        return lambda env: _show(value(env), raw, env.escape)

    # Values: engine `_value`, classified once.
    def value(self, token: str, depth: int) -> Getter:
        if token.startswith("(") and token.endswith(")"):
            try:
                call = _call(token[1:-1].strip())
            except ValueError as error:
                return _raiser(error)
            return self.call(call, None, True, depth)
        constant = _literal(token)
        if constant is not _MISSING:
            return _constant(constant)
        if token.startswith(".") and token[1:].isdigit():
            return _raiser(ValueError(f"{token} is not a valid number"))
        try:
            return self.data_path(token[1:]) if token.startswith("@") else self.context_path(token)
        except ValueError as error:
            return _raiser(error)

    def context_path(self, path: str) -> Getter:
        parts = _parts(path)
        index = climbed = 0
        while index < len(parts) and parts[index] == "..":
            climbed += 1
            index += 1
        if index >= len(parts):
            return lambda env: None if climbed >= len(env.scopes) else _reject_function(env.scopes[-1 - climbed])
        first = parts[index]
        rest = tuple(part for part in parts[index + 1 :] if part not in (".", "this"))
        this = first in (".", "this")
        params = climbed == 0 and not this

        def get(env: Env) -> Any:
            if climbed >= len(env.scopes):
                return None
            current = _MISSING
            if params:
                for frame in reversed(env.blocks):
                    if first in frame:
                        current = frame[first]
                        break
                if isinstance(current, _Unbound):
                    raise ValueError(f"{first} is not defined")
            if current is _MISSING:
                scope = env.scopes[-1 - climbed]
                current = scope if this else _step(scope, first)
            for part in rest:
                current = _step(current, part)
            if callable(current):
                _reject_function(current)
            return current

        return get

    def data_path(self, path: str) -> Getter:
        parts = tuple(_parts(path))

        def get(env: Env) -> Any:
            frames = env.frames
            current: Any = frames[-1]
            for part in parts:
                if part == "..":
                    frames = frames[:-1]
                    if not frames:
                        return None
                    current = frames[-1]
                    continue
                current = _step(current, part)
            return current

        return get

    # Calls: engine `_eval_call`.
    def call(self, call: dict[str, Any], block: Block | None, as_call: bool, depth: int) -> Getter:
        name: str = call["name"]
        if name in _BUILTINS and block is not None:
            return self.builtin(Block(call, block.body, block.inverse), depth)
        helper = self.helpers.get(name)
        arguments = [self.value(bit, depth) for bit in call["args"]]
        hashed = {key: self.value(bit, depth) for key, bit in call["hash"].items()}
        if helper is None and not as_call and block is None and not call["args"] and not call["hash"]:
            return _constant(None) if call.get("literal") else self.value(name, depth)
        if helper is None:
            missing = f'Missing helper: "{name}"'

            def fail(env: Env) -> Any:
                for argument in arguments:
                    argument(env)
                for get in hashed.values():
                    get(env)
                raise ValueError(missing)

            return fail
        if block is None and name in self.plain:
            maker = self.direct.get(name)
            made = maker(arguments) if maker is not None and not hashed else None
            return made if made is not None else self.plain_call(helper, arguments, hashed)
        is_block = block is not None
        body = self.nodes(block.body, depth) if block is not None else None
        inverse = self.nodes(block.inverse, depth) if block is not None else None

        def run(env: Env) -> Any:
            values = [argument(env) for argument in arguments]
            named = {key: get(env) for key, get in hashed.items()}

            def fn(context: Any | None = None) -> SafeString:
                if body is None:
                    return SafeString("")
                return SafeString(body(env if context is None else env.pushed(context, {})))

            def otherwise(context: Any | None = None) -> SafeString:
                if inverse is None:
                    return SafeString("")
                return SafeString(inverse(env if context is None else env.pushed(context, {})))

            options = HelperOptions(
                hash=named, fn=fn, inverse=otherwise, data=env.frames[-1], context=env.scopes[-1], is_block=is_block
            )
            return helper(values, options)

        return run

    @staticmethod
    def plain_call(helper: Any, arguments: list[Getter], hashed: dict[str, Getter]) -> Getter:
        if hashed:
            return lambda env: helper(
                [argument(env) for argument in arguments],
                PlainOptions(env.frames[-1], {key: get(env) for key, get in hashed.items()}),
            )
        constants = [argument(_NO_ENV) for argument in arguments] if all(a in _CONSTANTS for a in arguments) else None
        if constants is not None:
            return lambda env: helper(list(constants), PlainOptions(env.frames[-1], {}))
        if len(arguments) == 1:
            (only,) = arguments
            return lambda env: helper([only(env)], PlainOptions(env.frames[-1], {}))
        return lambda env: helper([argument(env) for argument in arguments], PlainOptions(env.frames[-1], {}))

    # Blocks: engine `_eval_block` and how `_render_one` prints its value.
    def block(self, node: Block, depth: int) -> Piece:
        name: str = node.call["name"]
        if name in _BUILTINS:
            return self.builtin(node, depth)
        call = node.call
        if call.get("literal") or name in self.helpers or call["args"] or call["hash"]:
            value = self.call(call, node, False, depth)
            return lambda env: _show(value(env), False, env.escape)
        return self.section(node, depth)

    def builtin(self, node: Block, depth: int) -> Piece:
        name: str = node.call["name"]
        args: list[str] = node.call["args"]
        body = self.nodes(node.body, depth)
        inverse = self.nodes(node.inverse, depth)
        params: list[str] = node.call["params"]
        if name in ("if", "unless"):
            if len(args) != 1:
                return _raiser(ValueError(f"#{name} requires exactly one argument"))
            condition = self.value(args[0], depth)
            token = node.call["hash"].get("includeZero")
            include = self.value(token, depth) if token is not None else None
            negate = name == "unless"

            def choose(env: Env) -> str:
                value = condition(env)
                shows = _if_shows(value, include_zero=include is not None and include(env) is True)
                return body(env) if shows != negate else inverse(env)

            return choose
        if name == "with":
            if len(args) != 1:
                return _raiser(ValueError("#with requires exactly one argument"))
            context = self.value(args[0], depth)

            def within(env: Env) -> str:
                value = _reject_function(context(env))
                if _is_empty(value):
                    return inverse(env)
                return body(env.pushed(value, _param_scope(params, value, None)))

            return within
        if len(args) != 1:
            return _raiser(ValueError("Must pass iterator to #each"))
        items = self.value(args[0], depth)
        return lambda env: _iterate(_reject_function(items(env)), body, inverse, params, env)

    def section(self, node: Block, depth: int) -> Piece:
        """{{#name}} when name is not a helper: engine `_section`."""
        value_of = self.value(node.call["name"], depth)
        body = self.nodes(node.body, depth)
        inverse = self.nodes(node.inverse, depth)
        params: list[str] = node.call["params"]

        def section(env: Env) -> str:
            value = _reject_function(value_of(env))
            if value is True:
                if params:
                    env = Env(env.scopes, [*env.blocks, {name: _Unbound() for name in params}], env.frames, env.escape)
                return body(env)
            if value is False or value is None:
                return inverse(env)
            if isinstance(value, Sequence) and not isinstance(value, str | bytes):
                return _iterate(value, body, inverse, params, env)
            return body(env.pushed(value, {}))

        return section
