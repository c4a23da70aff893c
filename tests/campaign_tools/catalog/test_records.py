"""Record parsing: CSV cells typed by the documented rule, the key column and --string-columns kept as text."""

from __future__ import annotations

from campaign_tools.catalog.records import read_csv, typed_cell


def test_csv_cells_are_typed_by_the_documented_rule() -> None:
    assert typed_cell("12") == 12
    assert typed_cell("-3.5") == -3.5
    assert typed_cell("1e3") == 1000.0
    assert typed_cell("012") == "012"  # not a JSON number: a zip code stays text
    assert typed_cell("1,5") == "1,5"
    assert typed_cell("true") is True
    assert typed_cell("True") == "True"
    assert typed_cell("1e999") == "1e999"  # would be infinite: stays text
    rows = ["id,name,price,zip,sku\n", '1,"Shoe, red",19.99,01234,0042\n', "2,Hat,,,17\n"]
    records = list(read_csv(rows, "id", string_columns=["sku"]))
    assert [record.item for record in records] == [
        {"id": "1", "name": "Shoe, red", "price": 19.99, "zip": "01234", "sku": "0042"},
        {"id": "2", "name": "Hat", "sku": "17"},
    ]
    assert [record.line for record in records] == [2, 3]
