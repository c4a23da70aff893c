"""`pinrec config check` through the real CLI: each attribute's coverage over a real catalog (SQLite file, DynamoDB
on moto's server), a sample of it, an items file or the offers file; the reasons items have no value; exit 1 when an
attribute resolves for no item."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from campaign_tools.cli import main
from tests.store_fixtures import REGION, aws, client, create_table  # noqa: F401

ITEMS = [{"id": f"P{n}", "name": f"Product {n}", "price": 10.0 + n} for n in range(1, 10)]
DEMO_OFFERS_CONFIG = Path(__file__).resolve().parents[3] / "campaign_tools" / "demo_data" / "pinrec-offers.toml"


def write_config(folder: Path, store: str, attributes: str) -> Path:
    path = folder / "pinrec.toml"
    path.write_text(f"[store]\n{store}\n{attributes}", encoding="utf-8")
    return path


TITLE_AND_URL_TYPO = (
    '[attributes.Title]\nfield = "name"\n'
    '[attributes.Url]\ntemplate = "https://shop.example.com/p/{{ item.idd }}?utm_source=pinpoint"\n'
)


@pytest.fixture
def catalog(make_catalog: Callable[..., Path]) -> Path:
    return make_catalog(ITEMS)


def test_an_attribute_template_typo_is_named_with_its_reason_and_exits_1(
    catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, f'kind = "sqlite"\npath = "{catalog}"', TITLE_AND_URL_TYPO)
    assert main(["config", "check", "--config", str(config)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"checked all 9 items of catalog {catalog}"
    assert out[2].split() == ["Title", "field", "'name'", "9", "0", "0", "-"]
    assert out[3].split()[:5] == ["Url", "template", "0", "0", "9"]
    assert out[3].endswith("template failed: undefined name 'idd' (9)")
    assert "  usable items: 0 of 9 (every attribute resolves)" in out
    assert out[-1] == (
        "error: attribute Url has no value for any of the 9 items checked (template failed: undefined name 'idd' "
        "(9)) and no default: every item is unknown, so every endpoint would be left out (transformer_too_few_items)"
    )


def test_a_sound_configuration_exits_0_and_json_gives_every_figure(
    catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    attributes = (
        '[attributes.Title]\nfield = "name"\n'
        '[attributes.Colour]\nfield = "colour"\ndefault = "any"\n'
        "[attributes.Price]\ntemplate = \"{{ '%.2f' | format(item.price) }}\"\n"
    )
    config = write_config(tmp_path, f'kind = "sqlite"\npath = "{catalog}"', attributes)
    assert main(["config", "check", "--config", str(config), "--output", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["items"], result["usable"], result["problems"]) == (9, 9, [])
    colour = next(attribute for attribute in result["attributes"] if attribute["name"] == "Colour")
    assert (colour["with_value"], colour["from_default"], colour["unknown"]) == (0, 9, 0)
    assert colour["reasons"] == {"field 'colour' is absent": 9}
    assert result["warnings"] == [
        "attribute Colour has its own value for none of the 9 items (field 'colour' is absent (9)): every message "
        "shows its default"
    ]


def test_an_attribute_unknown_for_most_items_is_a_warning_not_an_error(
    make_catalog: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = [{"id": f"P{n}", "name": f"Product {n}", **({"image": f"i{n}.jpg"} if n < 3 else {})} for n in range(10)]
    catalog = make_catalog(items, name="images.db")
    attributes = '[attributes.Title]\nfield = "name"\n[attributes.Image]\nfield = "image"\n'
    config = write_config(tmp_path, f'kind = "sqlite"\npath = "{catalog}"', attributes)
    assert main(["config", "check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "usable items: 3 of 10" in out
    assert (
        "warning: attribute Image has no value for 7 of 10 items (field 'image' is absent (7)) and no default: "
        "endpoints recommended those items are left out"
    ) in out


def test_a_sample_of_the_catalog_or_an_items_file(
    catalog: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, f'kind = "sqlite"\npath = "{catalog}"', TITLE_AND_URL_TYPO)
    assert main(["config", "check", "--config", str(config), "--sample", "4"]) == 1
    assert capsys.readouterr().out.startswith(f"checked a sample of 4 items of catalog {catalog}\n")
    (tmp_path / "new-items.csv").write_text("id,name,idd\nN1,New 1,n-1\nN2,New 2,n-2\n", encoding="utf-8")
    assert main(["config", "check", "--config", str(config), "--items", str(tmp_path / "new-items.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"checked the items of {tmp_path / 'new-items.csv'}\n") and "usable items: 2 of 2" in out
    with pytest.raises(SystemExit):
        main(["config", "check", "--config", str(config), "--sample", "4", "--items", "x.jsonl"])
    assert main(["config", "check", "--config", str(config), "--sample", "0"]) == 1
    assert "--sample: Input should be greater than or equal to 1" in capsys.readouterr().err


def test_an_empty_catalog_resolves_nothing(
    make_catalog: Callable[..., Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path, f'kind = "sqlite"\npath = "{make_catalog([], name="empty.db")}"', TITLE_AND_URL_TYPO
    )
    assert main(["config", "check", "--config", str(config)]) == 1
    assert "error: no items to check the attributes against (all 0 items of catalog" in capsys.readouterr().out


def test_a_dynamodb_catalog_is_sampled_through_its_reader(
    aws: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = create_table(aws)
    dynamodb = client("dynamodb", aws)
    for item in ITEMS:
        dynamodb.put_item(TableName=table, Item={"id": {"S": item["id"]}, "name": {"S": item["name"]}})
    store = f'kind = "dynamodb"\ntable = "{table}"\nregion = "{REGION}"\nendpoint_url = "{aws}"'
    config = write_config(tmp_path, store, TITLE_AND_URL_TYPO)
    assert main(["config", "check", "--config", str(config), "--sample", "5"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"checked a sample of 5 items of DynamoDB table {table}\n")
    assert "template failed: undefined name 'idd' (5)" in out


def test_in_offers_mode_the_offers_file_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", "--config", str(DEMO_OFFERS_CONFIG)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("checked the items of ") and out.splitlines()[0].endswith("offers.jsonl")
    assert "usable items: 8 of 8" in out
