"""Attribute templates run in jinja2's immutable sandbox with limits: generated escapes, mutations, huge ranges, deep
recursion and size bombs end in the attribute's default (or the item unknown), never a failed batch, a changed item,
a leaked secret or a command run."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import config_for, write_catalog
from transformer import template_sandbox
from transformer.errors import ConfigError
from transformer.service import Transformer
from transformer.template_sandbox import MAX_OUTPUT_CHARACTERS, attribute_environment

SECRET = "wJalrXUtnFEMI-not-a-real-secret"
ITEM = {"id": "P1", "name": "Trail boot", "price": 89.5, "tags": ["hiking", "boots"], "count": 3}
ROOT = Path(__file__).resolve().parents[2]

sizes = st.sampled_from([10_001, 65_537, 10**6, 10**9, 2**31, 10**12])
objects = st.sampled_from(
    ["cycler", "joiner", "namespace", "lipsum", "range", "dict", "item", "item.tags", "self", "''"]
)
chains = st.sampled_from(
    [
        "__init__.__globals__[os].environ[AWS_SECRET_ACCESS_KEY]",
        "__init__.__globals__[os]",
        "__class__.__mro__[1].__subclasses__",
        "__globals__[__builtins__]",
        "__class__.__init__.__globals__[sys].modules[os].environ",
    ]
)


@st.composite
def escapes(draw: st.DrawFn) -> str:
    """Reaching Python internals: `|attr('format')` payloads (CVE-2025-27516), `cycler.__init__.__globals__`, and
    their spellings through attr, subscripts, str.format and format_map."""
    target, chain = draw(objects), draw(chains)
    first, _, rest = chain.partition(".")
    return draw(
        st.sampled_from(
            [
                f'{{{{ "{{0.{chain}}}"|attr("format")({target}) }}}}',
                f'{{{{ ("{{0.{chain}}}"|attr("format"))({target}) }}}}',
                f'{{{{ "{{0.{chain}}}".format({target}) }}}}',
                f'{{{{ "{{x.{chain}}}".format_map({{"x": {target}}}) }}}}',
                f"{{{{ {target}.{chain.replace('[', '.').replace(']', '')} }}}}",
                f"{{{{ {target}|attr('{first}')|attr('{rest.split('.')[0] or first}') }}}}",
                f"{{{{ {target}['{first}'] }}}}",
                "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
                "{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('id').read() }}",
                "{{ ''.__class__.__mro__[1].__subclasses__() }}",
                "{{ item.__class__.__base__.__subclasses__() }}",
            ]
        )
    )


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """Changing the item the other attributes read (`item.update(...)` ran under the plain sandbox)."""
    value = draw(st.sampled_from(["'changed'", "1", "none", "[1]"]))
    return draw(
        st.sampled_from(
            [
                f"{{{{ item.update({{'name': {value}}}) }}}}",
                f"{{% set _ = item.update(name={value}) %}}",
                "{{ item.pop('name') }}",
                "{{ item.clear() }}",
                f"{{{{ item.setdefault('extra', {value}) }}}}",
                f"{{{{ item.tags.append({value}) }}}}",
                f"{{{{ item.tags.extend([{value}]) }}}}",
                "{{ item.tags.sort(reverse=true) }}",
                f"{{{{ item|attr('update')({{'name': {value}}}) }}}}",
                f"{{{{ item.__setitem__('name', {value}) }}}}",
                "{% set ns = namespace(i=item) %}{{ ns.i.popitem() }}",
            ]
        )
    )


@st.composite
def work_bombs(draw: st.DrawFn) -> str:
    """Huge ranges, loops within loops, and recursion: plain, mutual, exponential, through recursive loops."""
    n, depth = draw(sizes), draw(st.integers(min_value=20, max_value=80))
    k = draw(st.sampled_from([101, 1_000, 10_000]))
    return draw(
        st.sampled_from(
            [
                f"{{% for i in range({n}) %}}{{% endfor %}}done",
                f"{{{{ range({n})|list|length }}}}",
                f"{{{{ range({n})|sum }}}}",
                f"{{% for i in range({k}) %}}{{% for j in range({k}) %}}{{% endfor %}}{{% endfor %}}",
                "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
                "{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0) }}",
                f"{{% macro f(n) %}}{{% if n %}}{{{{ f(n - 1) }}}}{{{{ f(n - 1) }}}}{{% endif %}}{{% endmacro %}}"
                f"{{{{ f({depth}) }}}}",
                "{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}",
                f"{{% macro f(n) %}}{{{{ item.name }}}}{{% if n %}}{{{{ f(n - 1) }}}}{{% endif %}}{{% endmacro %}}"
                f"{{{{ f({depth * 10}) }}}}",
            ]
        )
    )


@st.composite
def size_bombs(draw: st.DrawFn) -> str:
    """Values and output far larger than any attribute: repetition, powers, widths, padding, replace, join."""
    n = draw(sizes)
    return draw(
        st.sampled_from(
            [
                f"{{{{ 'x' * {n} }}}}",
                f"{{{{ item.name * {n} }}}}",
                f"{{{{ ([item.name] * {n})|join }}}}",
                f"{{{{ {n} ** {n} }}}}",
                "{{ 9 ** 9 ** 9 ** 9 }}",
                f"{{{{ '%0{n}d' % 1 }}}}",
                f"{{{{ '%.{n}f' % 1.5 }}}}",
                "{{ '%*d' % (1000000000, 1) }}",
                f"{{{{ '%0{n}d'|format(1) }}}}",
                f"{{{{ '{{:>{n}}}'.format(1) }}}}",
                f"{{{{ '{{:{{}}}}'.format(1, {n}) }}}}",
                f"{{{{ 'x'|center({n}) }}}}",
                f"{{{{ 'x'.ljust({n}) }}}}",
                f"{{{{ 'x'.zfill({n}) }}}}",
                f"{{{{ ('a\\n' * 1000)|indent({n}) }}}}",
                f"{{{{ ('\\t' * 60000).expandtabs({n}) }}}}",
                "{{ ('x' * 60000).replace('x', 'y' * 60000) }}",
                "{{ ('x' * 60000)|replace('', 'y' * 60000) }}",
                "{{ ','.join(['x' * 60000] * 60000) }}",
                "{% for i in range(9000) %}{{ item.name }}{% endfor %}",
                "{% set x = 'x' * 60000 %}{{ x ~ x ~ x }}",
                f"{{{{ lipsum({n}) }}}}",
                f"{{{{ item.tags|batch({n})|list }}}}",
            ]
        )
    )


templates = st.one_of(escapes(), mutations(), work_bombs(), size_bombs())


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_catalog(tmp_path_factory.mktemp("sandbox") / "catalog.db", [ITEM, {**ITEM, "id": "P2"}])


@pytest.fixture(autouse=True)
def secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(template=templates, default=st.sampled_from([None, "", "-"]))
def test_a_hostile_template_ends_in_its_default_or_the_item_unknown(
    catalog: Path, template: str, default: str | None
) -> None:
    hostile: dict[str, Any] = {"template": template}
    if default is not None:
        hostile["default"] = default
    attributes = {
        "Before": {"field": "name"},
        "Hostile": hostile,
        "After": {"template": "{{ item.name }}|{{ item.tags|join(',') }}"},
    }
    transformer = Transformer(config_for(catalog, attributes))
    event = {"Endpoints": {"a": {"RecommendationItems": ["P1"]}, "b": {"RecommendationItems": ["P2", "P1"]}}}
    response = transformer.handle(event)
    for endpoint_id, returned in response.items():
        recommendations = returned["Recommendations"]
        assert recommendations["Before"] == ["Trail boot"] * len(recommendations["Before"])
        assert recommendations["After"] == ["Trail boot|hiking,boots"] * len(recommendations["After"]), "item changed"
        for value in recommendations["Hostile"]:
            assert len(value) <= MAX_OUTPUT_CHARACTERS
            assert SECRET not in value and "uid=" not in value and "<class" not in value and "<function" not in value
        assert endpoint_id in event["Endpoints"]
    if default is not None:
        assert set(response) == {"a", "b"}, "with a default, a failing template never costs an endpoint"
    transformer.store.close()


def test_ordinary_templates_render_as_before(catalog: Path) -> None:
    attributes = {
        "Price": {"template": "{{ '%.2f' | format(item.price) }}"},
        "Url": {"template": "https://shop.example.com/p/{{ item.id }}?utm_source=pinpoint"},
        "Tags": {"template": "{{ item.tags|join(', ')|upper }}"},
        "Grouped": {"template": "{{ '{:,}'.format(1500000) }} {{ '%05d' % item.count }} {{ 'x' * 3 }} {{ 2 ** 10 }}"},
        "Loop": {"template": "{% for tag in item.tags %}{{ loop.index }}:{{ tag|title }} {% endfor %}"},
        "Macro": {"template": "{% macro stars(n) %}{{ '*' * n }}{% endmacro %}{{ stars(item.count) }}"},
    }
    transformer = Transformer(config_for(catalog, attributes))
    response = transformer.handle({"Endpoints": {"a": {"RecommendationItems": ["P1"]}}})
    assert response["a"]["Recommendations"] == {
        "Price": ["89.50"],
        "Url": ["https://shop.example.com/p/P1?utm_source=pinpoint"],
        "Tags": ["HIKING, BOOTS"],
        "Grouped": ["1,500,000 00003 xxx 1024"],
        "Loop": ["1:Hiking 2:Boots "],
        "Macro": ["***"],
    }


def test_output_over_the_limit_fails_the_template_before_max_length_applies(catalog: Path) -> None:
    long = {"template": f"{{{{ 'x' * {MAX_OUTPUT_CHARACTERS + 1} }}}}", "default": "-", "max_length": 10}
    fits = {"template": f"{{{{ 'x' * {MAX_OUTPUT_CHARACTERS} }}}}", "max_length": 10}
    transformer = Transformer(config_for(catalog, {"Long": long, "Fits": fits}))
    response = transformer.handle({"Endpoints": {"a": {"RecommendationItems": ["P1"]}}})
    assert response["a"]["Recommendations"] == {"Long": ["-"], "Fits": ["x" * 10]}


def test_pinrec_requires_a_jinja2_whose_sandbox_attr_cannot_escape() -> None:
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    requirement = next(dependency for dependency in dependencies if re.match(r"jinja2\b", dependency, re.IGNORECASE))
    lower = re.search(r">=\s*([\d.]+)", requirement)
    assert lower is not None, requirement
    assert tuple(int(part) for part in lower.group(1).split(".")) >= (3, 1, 6), requirement


def test_an_older_jinja2_fails_the_configuration(catalog: Path) -> None:
    attribute_environment.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(jinja2, "__version__", "3.1.5")
            with pytest.raises(ConfigError, match=r"jinja2 3.1.5 .*CVE-2025-27516.*jinja2>=3.1.6"):
                config_for(catalog, {"Url": {"template": "{{ item.id }}"}})
    finally:
        attribute_environment.cache_clear()
    assert isinstance(attribute_environment(), template_sandbox.AttributeSandbox)
