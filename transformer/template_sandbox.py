"""The sandbox attribute templates render in: jinja2's immutable sandbox, with limits on work, size and output.

jinja2's `ImmutableSandboxedEnvironment` refuses attributes that start with `_`, methods that change a list, dict
or set (`item.update(...)`) and unsafe callables. Each render also has limits; breaking one makes the template fail
(the attribute's default, else the item counts unknown), never the batch:

- output: at most MAX_OUTPUT_CHARACTERS characters (counted as each `{{ ... }}` is output, before `max_length`
  applies);
- work: at most MAX_STEPS steps, a step being a call (a macro's too), an intercepted operator or a filter, and
  each number a `range` produces;
- size: no string or collection the template builds with `*`, a call or a filter holds more than MAX_VALUE_SIZE
  characters or elements; widths in format strings and padding arguments are held to the same bound, and `**` to
  results of at most MAX_POWER_BITS bits, so no single step can allocate without bound;
- recursion: a macro that recurses without end raises RecursionError, which fails the template like any error.

jinja2 before 3.1.6 let `|attr('format')` escape the sandbox and read the environment (CVE-2025-27516); building
the environment with an older jinja2 fails the configuration.
"""

from __future__ import annotations

import operator
import re
import types
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache, wraps
from string import Formatter
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from transformer.errors import ConfigError

MAX_OUTPUT_CHARACTERS = 4096
MAX_STEPS = 10_000
MAX_VALUE_SIZE = 65_536
MAX_POWER_BITS = 4096
MINIMUM_JINJA2 = (3, 1, 6)

_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_PRINTF_WIDTHS = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")
_PASSED = (jinja2.Environment, Context, EvalContext)
"""What jinja2 passes a filter before its value (pass_environment, pass_context, pass_eval_context)."""


class TemplateLimitExceeded(SecurityError):
    """A render broke one of the sandbox's limits."""


@dataclass(slots=True)
class _Budget:
    steps_left: int = MAX_STEPS
    output_left: int = MAX_OUTPUT_CHARACTERS


_BUDGET: ContextVar[_Budget | None] = ContextVar("pinrec_template_budget", default=None)


def _spend(steps: int = 1) -> None:
    budget = _BUDGET.get()
    if budget is None:  # compile-time constant folding: no render is running
        return
    budget.steps_left -= steps
    if budget.steps_left < 0:
        raise TemplateLimitExceeded(f"the template takes more than {MAX_STEPS:,} steps")


def _counted_output(value: Any) -> Any:
    """The environment's `finalize`: every `{{ ... }}` output is counted against the output limit as it is made."""
    text = value if isinstance(value, str) else str(value)
    budget = _BUDGET.get()
    if budget is not None:
        budget.output_left -= len(text)
        if budget.output_left < 0:
            raise TemplateLimitExceeded(f"the output is longer than {MAX_OUTPUT_CHARACTERS:,} characters")
    return text


def _size(value: object) -> int:
    """Characters of a string; elements (plus the characters of string elements) of a collection."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple | dict | set | frozenset):
        return len(value) + sum(len(element) for element in value if isinstance(element, str | bytes))
    return 0


def _bounded(value: Any) -> Any:
    if _size(value) > MAX_VALUE_SIZE:
        raise TemplateLimitExceeded(f"the template builds a value larger than {MAX_VALUE_SIZE:,}")
    return value


def _check_width(width: object) -> None:
    if isinstance(width, int) and abs(width) > MAX_VALUE_SIZE:
        raise TemplateLimitExceeded(f"a width over {MAX_VALUE_SIZE:,}")


def _check_printf(text: object) -> None:
    """`%`-formatting widths and precisions within bounds, and none taken from the arguments (`*`)."""
    if isinstance(text, str) and "%" in text:
        problem = _printf_problem(text)
        if problem is not None:
            raise TemplateLimitExceeded(problem)


@lru_cache(maxsize=256)
def _printf_problem(text: str) -> str | None:
    for match in _PRINTF_WIDTHS.finditer(text):
        for part in match.groups():
            if part == "*":
                return "a %-format width or precision taken from the arguments ('*')"
            if part is not None and int(part) > MAX_VALUE_SIZE:
                return f"a width over {MAX_VALUE_SIZE:,}"
    return None


def _check_format_spec(text: str) -> None:
    """`str.format` widths and precisions within bounds, and none taken from the arguments (a nested `{}`)."""
    try:
        fields = list(Formatter().parse(text))
    except ValueError:
        return  # str.format raises the same error
    for _, _, spec, _ in fields:
        if spec and "{" in spec:
            raise TemplateLimitExceeded("a format width or precision taken from the arguments")
        for digits in _DIGITS.findall(spec or ""):
            _check_width(int(digits))


def _check_replace(text: str | bytes, arguments: tuple[Any, ...] | list[Any]) -> None:
    """`replace(old, new[, count])` would not build a value over the bound."""
    old, new, count = (*arguments, -1)[:3]
    if not (isinstance(old, str | bytes) and isinstance(new, str | bytes)) or type(old) is not type(text):
        return  # replace raises TypeError
    hits = len(text) + 1 if not old else text.count(old)  # type: ignore[arg-type]  # same type as text
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    if len(text) + hits * (len(new) - len(old)) > MAX_VALUE_SIZE:
        raise TemplateLimitExceeded(f"replace would build more than {MAX_VALUE_SIZE:,} characters")


def _check_text_method(
    text: str | bytes, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...]:
    """The str and bytes methods whose result can be far larger than their inputs, checked before they run.
    Returns the positional arguments to call with (an iterable given to `join` is read once, here)."""
    arguments = (*args, *kwargs.values())
    if name in _PADDING_METHODS and arguments:
        _check_width(arguments[0])
    elif name == "expandtabs":
        size = arguments[0] if arguments and isinstance(arguments[0], int) else 8
        tab = "\t" if isinstance(text, str) else b"\t"
        if size * text.count(tab) + len(text) > MAX_VALUE_SIZE:  # type: ignore[arg-type]  # same type as text
            raise TemplateLimitExceeded(f"expandtabs would build more than {MAX_VALUE_SIZE:,} characters")
    elif name == "replace" and len(arguments) >= 2:
        _check_replace(text, arguments[:3])
    elif name == "join" and arguments and isinstance(arguments[0], Iterable):
        parts = list(arguments[0])
        joined = sum(len(part) for part in parts if isinstance(part, str | bytes)) + len(text) * (len(parts) - 1)
        if len(parts) > MAX_VALUE_SIZE or joined > MAX_VALUE_SIZE:
            raise TemplateLimitExceeded(f"join would build more than {MAX_VALUE_SIZE:,} characters")
        return (parts, *args[1:]) if args else args
    return args


def _check_repeat(sequence: object, times: object) -> None:
    if isinstance(times, int) and _size(sequence) * max(times, 0) > MAX_VALUE_SIZE:
        raise TemplateLimitExceeded(f"'*' would build a value larger than {MAX_VALUE_SIZE:,}")


def _check_power(base: object, exponent: object) -> None:
    if not (isinstance(base, int) and isinstance(exponent, int) and exponent > 0):
        return
    if max(abs(base).bit_length(), 1) * exponent > MAX_POWER_BITS:
        raise TemplateLimitExceeded(f"'**' would build a number over {MAX_POWER_BITS:,} bits")


def _width_size(width: object) -> int:
    return len(width) if isinstance(width, str) else width if isinstance(width, int) else 0


def _check_filter(name: str, values: list[Any], kwargs: Mapping[str, Any]) -> None:
    """The built-in filters whose result can be far larger than their inputs, checked before they run."""
    if name == "format" and values:
        _check_printf(values[0])
    elif name in ("center", "indent", "wordwrap", "truncate"):
        for argument in (*values[1:], *kwargs.values()):
            _check_width(argument)
        if name == "indent" and values and isinstance(values[0], str):
            width = _width_size(values[1] if len(values) > 1 else kwargs.get("width", 4))
            if (values[0].count("\n") + 1) * width + len(values[0]) > MAX_VALUE_SIZE:
                raise TemplateLimitExceeded(f"indent would build more than {MAX_VALUE_SIZE:,} characters")
    elif name == "replace" and len(values) >= 3 and isinstance(values[0], str):
        _check_replace(values[0], values[1:4])


def _checked_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter that spends a step, has its size-amplifying arguments checked and its result bounded.
    (`wraps` keeps jinja2's pass_context/pass_environment marker, so jinja2 still passes what the filter takes.)"""

    @wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _spend()
        _check_filter(name, [value for value in args if not isinstance(value, _PASSED)], kwargs)
        return _bounded(function(*args, **kwargs))

    return checked


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    _spend(len(numbers))
    return numbers


class AttributeSandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox, counting each render's steps and bounding the values it builds."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        # Attribute values are data, not markup: escaping belongs to the message templates that print them.
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, finalize=_counted_output)
        self.globals = {"range": _bounded_range, "dict": dict, "namespace": self.globals["namespace"]}
        self.filters = {name: _checked_filter(name, function) for name, function in self.filters.items()}

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        _spend()
        if operator_name == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif operator_name == "**":
            _check_power(left, right)
        elif operator_name == "%":
            _check_printf(left)
        return _bounded(_OPERATORS[operator_name](left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format_spec(value.__self__)
        return wrapped

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        if isinstance(__obj, types.BuiltinMethodType) and isinstance(__obj.__self__, str | bytes):
            args = _check_text_method(__obj.__self__, __obj.__name__, args, kwargs)
        return _bounded(super().call(__context, __obj, *args, **kwargs))


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "**": operator.pow,
    "%": operator.mod,
    "+": operator.add,
}


def _jinja2_version() -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", jinja2.__version__)[:3])


@lru_cache(maxsize=1)
def attribute_environment() -> AttributeSandbox:
    """The one sandbox every attribute template compiles in; ConfigError with a jinja2 that can be escaped."""
    if _jinja2_version() < MINIMUM_JINJA2:
        raise ConfigError(
            f"jinja2 {jinja2.__version__} lets an attribute template escape its sandbox (CVE-2025-27516); "
            f"pinrec needs jinja2>={'.'.join(map(str, MINIMUM_JINJA2))}"
        )
    return AttributeSandbox()


def render_bounded(template: jinja2.Template, item: Mapping[str, Any]) -> str:
    """Render `template` over `item` within the sandbox's limits; raises what the template raises, or
    TemplateLimitExceeded. Output is counted as each `{{ ... }}` makes it (`finalize`), so a runaway loop stops at the
    limit; the text between tags is counted once the render ends (it only repeats inside loops, which the step
    limit bounds). No error goes through jinja2's traceback rewriting: any error only fails the attribute."""
    token = _BUDGET.set(_Budget())
    try:
        text = "".join(template.root_render_func(template.new_context({"item": item})))
    finally:
        _BUDGET.reset(token)
    if len(text) > MAX_OUTPUT_CHARACTERS:
        raise TemplateLimitExceeded(f"the output is longer than {MAX_OUTPUT_CHARACTERS:,} characters")
    return text
