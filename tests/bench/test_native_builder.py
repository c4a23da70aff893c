"""The native-builder experiment (`bench/native_builder`) measures a C build of `_all_known`'s response: it must give
exactly what the Python one gives, or its figures would measure something else."""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bench.native_builder import NoCompiler, compile_builder, load_builder, native_all_known
from tests.transformer.test_enrich_paths import KNOWN, VALUES, policies, resolve, well_formed_endpoint
from transformer.enrich import Policy, _all_known, _well_formed

string_id = st.one_of(
    st.sampled_from(sorted(KNOWN)), st.sampled_from(sorted(k for k in VALUES if k not in KNOWN)), st.text(max_size=4)
)
endpoint = st.one_of(
    well_formed_endpoint,
    st.fixed_dictionaries({"RecommendationItems": st.lists(string_id, min_size=1, max_size=6)}),
)


@pytest.fixture(scope="module")
def builder(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    try:
        return load_builder(compile_builder(tmp_path_factory.mktemp("native")))
    except NoCompiler as error:
        pytest.skip(f"no C toolchain: {error}")


@settings(max_examples=300)
@given(st.dictionaries(st.text(min_size=1, max_size=6), endpoint, min_size=1, max_size=12), policies)
def test_the_c_build_gives_what_the_python_build_gives(
    builder: ModuleType, endpoints: dict[str, Any], policy: Policy
) -> None:
    batch = _well_formed(endpoints)
    assume(batch is not None)
    assert batch is not None
    values = resolve(batch.unique_ids)
    before = copy.deepcopy(endpoints)
    native = native_all_known(builder)(endpoints, batch, values, policy)
    assert native == _all_known(endpoints, batch, values, policy)
    assert endpoints == before, "the input is not changed"
    if native is not None:
        assert all(native.response[key] is not endpoints[key] for key in endpoints)


def test_an_unknown_item_or_a_short_row_leaves_the_batch_to_the_per_endpoint_path(builder: ModuleType) -> None:
    policy = Policy(attribute_names=("Title", "Price", "Url"))
    for item in ("gone", "short", "never-seen"):
        endpoints = {"e1": {"RecommendationItems": ["item-1"]}, "e2": {"RecommendationItems": ["item-2", item]}}
        batch = _well_formed(endpoints)
        assert batch is not None
        assert native_all_known(builder)(endpoints, batch, resolve(batch.unique_ids), policy) is None
