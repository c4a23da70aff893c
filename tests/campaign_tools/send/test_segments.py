"""Segment reader: JSON Lines and CSV, local, gzip (by magic bytes) and S3 (moto server), skips and malformed rows."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from campaign_tools.channels import registry as channel_registry
from campaign_tools.channels.base import Channel
from campaign_tools.send.segments import SegmentStats, SkipReason, read_segment
from transformer.files import SourceError

EMAIL = channel_registry.channel("email")
PUSH = channel_registry.channel("push")


def endpoint(endpoint_id: str, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "Id": endpoint_id,
        "ChannelType": "EMAIL",
        "Address": f"{endpoint_id}@example.com",
        "OptOut": "NONE",
        "EndpointStatus": "ACTIVE",
        "User": {"UserId": f"user-{endpoint_id}", "UserAttributes": {"FirstName": ["Ana"]}},
        "Attributes": {"Interests": ["hiking", "camping"]},
        "Metrics": {"orders": 3},
    }
    record.update(fields)
    return record


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def read_all(source: str, channel: Channel = EMAIL, **options: Any) -> tuple[list[Any], SegmentStats]:
    stats = SegmentStats()
    return list(read_segment(source, channel, stats, **options)), stats


def test_jsonl_endpoints_come_out_as_the_transformer_event_expects(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "segment.jsonl", [endpoint("a"), endpoint("b")])
    endpoints, stats = read_all(str(path))
    assert [(item.line, item.endpoint_id) for item in endpoints] == [(1, "a"), (2, "b")]
    assert "Id" not in endpoints[0].endpoint
    assert endpoints[0].endpoint["User"]["UserAttributes"] == {"FirstName": ["Ana"]}
    assert (stats.rows, stats.eligible, stats.malformed) == (2, 2, 0)


def test_skips_are_counted_by_reason_and_reported_to_the_hook(tmp_path: Path) -> None:
    records = [
        endpoint("ok"),
        endpoint("out", OptOut="ALL"),
        endpoint("gone", EndpointStatus="INACTIVE"),
        endpoint("phone", ChannelType="SMS", Address="+15550100"),
        endpoint("blank", Address="  "),
        {k: v for k, v in endpoint("none").items() if k != "Address"},
    ]
    path = write_jsonl(tmp_path / "segment.jsonl", records)
    seen: list[tuple[str, str]] = []
    stats = SegmentStats()
    eligible = list(read_segment(str(path), EMAIL, stats, on_skip=lambda i, r: seen.append((i, str(r)))))
    assert [item.endpoint_id for item in eligible] == ["ok"]
    assert stats.skipped == {
        SkipReason.OPTED_OUT: 1,
        SkipReason.INACTIVE: 1,
        SkipReason.OTHER_CHANNEL: 1,
        SkipReason.NO_ADDRESS: 2,
    }
    assert ("out", "opted_out") in seen and ("none", "no_address") in seen


def test_push_channel_takes_every_push_channel_type(tmp_path: Path) -> None:
    records = [endpoint(kind, ChannelType=kind, Address=f"token-{kind}") for kind in ("GCM", "APNS", "BAIDU", "EMAIL")]
    endpoints, stats = read_all(str(write_jsonl(tmp_path / "s.jsonl", records)), PUSH)
    assert [item.endpoint_id for item in endpoints] == ["GCM", "APNS", "BAIDU"]
    assert stats.skipped == {SkipReason.OTHER_CHANNEL: 1}


def test_malformed_rows_are_reported_by_line_and_never_stop_the_read(tmp_path: Path) -> None:
    path = tmp_path / "segment.jsonl"
    lines = [
        json.dumps(endpoint("a")),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"ChannelType": "EMAIL"}),
        json.dumps(endpoint("b", Attributes={"Interests": "hiking"})),
        json.dumps(endpoint("c", Metrics={"orders": "three"})),
        json.dumps(endpoint("d", User="ana")),
        "",
        json.dumps(endpoint("e")),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"Id": "\xff\xfe"}\n')
    endpoints, stats = read_all(str(path))
    assert [item.endpoint_id for item in endpoints] == ["a", "e"]
    assert stats.malformed == 7
    reasons = dict(stats.malformed_examples)
    assert reasons[2].startswith("not JSON")
    assert reasons[3] == "an endpoint must be a JSON object, got list"
    assert reasons[4] == "no Id"
    assert reasons[5] == "Attributes.Interests must be a list of strings"
    assert reasons[6] == "Metrics must be an object of numbers"
    assert reasons[7] == "User must be an object"
    assert reasons[10] == "not UTF-8 text"


def test_gzip_is_detected_by_magic_bytes_whatever_the_name(tmp_path: Path) -> None:
    data = "".join(json.dumps(endpoint(f"e{i}")) + "\n" for i in range(3)).encode()
    (tmp_path / "segment.jsonl").write_bytes(gzip.compress(data))
    (tmp_path / "segment.jsonl.gz").write_bytes(gzip.compress(data))
    for name in ("segment.jsonl", "segment.jsonl.gz"):
        endpoints, _ = read_all(str(tmp_path / name))
        assert [item.endpoint_id for item in endpoints] == ["e0", "e1", "e2"]


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "s.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(endpoint("a")).encode() + b"\n")
    endpoints, stats = read_all(str(tmp_path / "s.jsonl"))
    assert [item.endpoint_id for item in endpoints] == ["a"] and stats.malformed == 0


CSV_HEADER = (
    "Id,ChannelType,Address,OptOut,EndpointStatus,User.UserId,User.UserAttributes.FirstName,"
    "User.UserAttributes.Last Name,Attributes.Interests,Metrics.orders,Location.Country,Location.Latitude,"
    "Demographic.Locale\n"
)


def test_csv_flattening_convention(tmp_path: Path) -> None:
    path = tmp_path / "segment.csv"
    path.write_text(
        CSV_HEADER
        + "a,EMAIL,a@example.com,NONE,ACTIVE,u-1,Ana,de Souza,hiking|camping,3,US,40.01,en_US\n"
        + 'b,EMAIL,b@example.com,,,,"Ben, Jr.",,,2.5,,,\n',
        encoding="utf-8",
    )
    endpoints, stats = read_all(str(path))
    first, second = (item.endpoint for item in endpoints)
    assert first == {
        "ChannelType": "EMAIL",
        "Address": "a@example.com",
        "OptOut": "NONE",
        "EndpointStatus": "ACTIVE",
        "User": {"UserId": "u-1", "UserAttributes": {"FirstName": ["Ana"], "Last Name": ["de Souza"]}},
        "Attributes": {"Interests": ["hiking", "camping"]},
        "Metrics": {"orders": 3},
        "Location": {"Country": "US", "Latitude": 40.01},
        "Demographic": {"Locale": "en_US"},
    }
    assert second == {
        "ChannelType": "EMAIL",
        "Address": "b@example.com",
        "User": {"UserAttributes": {"FirstName": ["Ben, Jr."]}},
        "Metrics": {"orders": 2.5},
    }
    assert stats.malformed == 0


def test_csv_list_separator_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "segment.csv"
    path.write_text("Id,ChannelType,Address,Attributes.Interests\na,EMAIL,a@x.org,hiking;camping\n", encoding="utf-8")
    endpoints, _ = read_all(str(path), list_separator=";")
    assert endpoints[0].endpoint["Attributes"] == {"Interests": ["hiking", "camping"]}


def test_csv_bad_rows_are_malformed_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "segment.csv"
    path.write_text(
        "Id,ChannelType,Address,Metrics.orders\n"
        "a,EMAIL,a@x.org,1\n"
        "b,EMAIL,b@x.org,many\n"
        "c,EMAIL\n"
        ",EMAIL,d@x.org,1\n"
        "e,EMAIL,e@x.org,nan\n"
        "f,EMAIL,f@x.org,2\n",
        encoding="utf-8",
    )
    endpoints, stats = read_all(str(path))
    assert [item.endpoint_id for item in endpoints] == ["a", "f"]
    assert stats.malformed_examples == [
        (3, "Metrics.orders must be a number"),
        (4, "2 cells where the header has 4"),
        (5, "no Id"),
        (6, "Metrics.orders must be a finite number"),
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Id,Email\n", "not in the Endpoint shape: Email"),
        ("ChannelType,Address\n", "no Id column"),
        ("Id,User.Name\n", "User.Name"),
    ],
)
def test_csv_header_problems_stop_before_any_send(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "segment.csv"
    path.write_text(header + "a,b\n", encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        read_all(str(path))


def test_format_and_compression_come_from_the_content_when_the_name_does_not_tell(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not found"):
        read_all(str(tmp_path / "absent.jsonl"))
    lines = (json.dumps(endpoint("a")) + "\n" + json.dumps(endpoint("b")) + "\n").encode()
    # A Pinpoint export: gzipped JSON Lines named without any extension.
    (tmp_path / "export-part-0001").write_bytes(gzip.compress(lines))
    endpoints, _ = read_all(str(tmp_path / "export-part-0001"))
    assert [item.endpoint_id for item in endpoints] == ["a", "b"]
    (tmp_path / "export.gz").write_bytes(gzip.compress(b"\xef\xbb\xbf\n  " + lines))
    endpoints, _ = read_all(str(tmp_path / "export.gz"))
    assert [item.endpoint_id for item in endpoints] == ["a", "b"]
    (tmp_path / "segment.txt").write_text("Id,ChannelType,Address\nc,EMAIL,c@example.com\n", encoding="utf-8")
    endpoints, _ = read_all(str(tmp_path / "segment.txt"))
    assert [item.endpoint_id for item in endpoints] == ["c"]
    endpoints, stats = read_all(str(tmp_path / "segment.txt"), segment_format="jsonl")
    assert endpoints == [] and stats.malformed == 2


def test_s3_segment_is_streamed_and_gunzipped(moto_module_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_module_endpoint)
    s3.create_bucket(Bucket="segments")
    body = "".join(json.dumps(endpoint(f"e{i}")) + "\n" for i in range(2000)).encode()
    s3.put_object(Bucket="segments", Key="spring/segment.jsonl", Body=gzip.compress(body))
    endpoints, stats = read_all("s3://segments/spring/segment.jsonl", s3_client=s3)
    assert len(endpoints) == 2000 and endpoints[-1].endpoint_id == "e1999"
    assert stats.malformed == 0
    with pytest.raises(SourceError, match="NoSuchKey"):
        read_all("s3://segments/absent.jsonl", s3_client=s3)
    with pytest.raises(SourceError, match="bucket/key"):
        read_all("s3://segments", segment_format="jsonl", s3_client=s3)
