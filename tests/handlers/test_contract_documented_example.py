"""The documented example: two email endpoints, three recommended items each, attributes Title and Genre."""

from __future__ import annotations

import copy

from tests.conftest import config_for
from transformer.service import Transformer

MOVIES = [
    {"id": "m1", "title": "Arrival", "genre": "Sci-Fi"},
    {"id": "m2", "title": "Amélie", "genre": "Comedy"},
    {"id": "m3", "title": "Heat", "genre": "Crime"},
    {"id": "m4", "title": "Up", "genre": "Animation"},
]


def _endpoint(address: str, items: list[str]) -> dict:
    return {
        "ChannelType": "EMAIL",
        "Address": address,
        "EndpointStatus": "ACTIVE",
        "OptOut": "NONE",
        "EffectiveDate": "2026-11-01T10:00:00.000Z",
        "Attributes": {"Interest": ["film"]},
        "User": {"UserId": "u-" + address[0], "UserAttributes": {"FirstName": ["Name"]}},
        "RecommendationItems": items,
    }


def test_documented_example_returns_bare_map_with_only_recommendations_added(make_catalog):
    catalog = make_catalog(MOVIES)
    config = config_for(catalog, {"Title": {"field": "title"}, "Genre": {"field": "genre"}})
    event = {
        "ApplicationId": "app-1",
        "Endpoints": {
            "ep-1": _endpoint("a@example.com", ["m1", "m2", "m3"]),
            "ep-2": _endpoint("b@example.com", ["m4", "m1", "m2"]),
        },
    }
    original = copy.deepcopy(event)

    response = Transformer(config).handle(event)

    assert event == original, "the handler must not mutate its input"
    assert set(response) == {"ep-1", "ep-2"}
    assert "Endpoints" not in response
    for endpoint_id, endpoint in response.items():
        without = {key: value for key, value in endpoint.items() if key != "Recommendations"}
        assert without == original["Endpoints"][endpoint_id]
    assert response["ep-1"]["Recommendations"] == {
        "Title": ["Arrival", "Amélie", "Heat"],
        "Genre": ["Sci-Fi", "Comedy", "Crime"],
    }
    assert response["ep-2"]["Recommendations"] == {
        "Title": ["Up", "Arrival", "Amélie"],
        "Genre": ["Animation", "Sci-Fi", "Comedy"],
    }
