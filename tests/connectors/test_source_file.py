"""source-file, run as a program over real CSV, JSON, JSONL and Parquet files under a data root."""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tests.connectors.programs import Result, command, configured_catalog

NAME = "source-file"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The data root that /local/ stands for."""
    path = tmp_path / "local"
    path.mkdir()
    return path


def env(root: Path) -> dict[str, str]:
    return {**os.environ, "SLUICE_LOCAL_ROOT": str(root)}


def config(url: str, fmt: str = "csv", **extra: Any) -> dict[str, Any]:
    """Airbyte's source-file configuration shape."""
    return {
        "dataset_name": "people",
        "format": fmt,
        "url": url,
        "provider": {"storage": "local"},
        **extra,
    }


def run(root: Path, tmp: Path, cmd: str, cfg: dict[str, Any], **kwargs: Any) -> Result:
    return command(NAME, cmd, tmp, config=cfg, env=env(root), **kwargs)


def discover(root: Path, tmp: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    result = run(root, tmp, "discover", cfg)
    assert result.returncode == 0, result.stderr
    (stream,) = result.one("CATALOG")["catalog"]["streams"]
    return dict(stream)


def read(
    root: Path,
    tmp: Path,
    cfg: dict[str, Any],
    sync_mode: str = "full_refresh",
    state: Any = None,
    cursor: str | None = None,
) -> Result:
    catalog = configured_catalog([discover(root, tmp, cfg)], sync_mode)
    if cursor:
        catalog["streams"][0]["cursor_field"] = [cursor]
    return run(root, tmp, "read", cfg, catalog=catalog, state=state)


def write_csv(path: Path, rows: list[str]) -> None:
    path.write_text("\n".join(rows) + "\n")


PEOPLE = [
    "id,name,score,active,born,seen",
    "1,Ann,1.5,true,1990-01-02,2024-01-01T10:00:00Z",
    '2,"Bob, Jr.",,false,1985-03-04,2024-01-02T10:00:00Z',
    "3,Cy,3,TRUE,,2024-01-03T10:00:00Z",
]


def test_spec_takes_airbyte_source_file_properties(root: Path, tmp_path: Path) -> None:
    spec = run(root, tmp_path, "spec", None).one("SPEC")["spec"]["connectionSpecification"]
    assert spec["required"] == ["dataset_name", "format", "url", "provider"]
    assert {"csv", "json", "jsonl", "parquet"} <= set(spec["properties"]["format"]["enum"])
    assert "reader_options" in spec["properties"]


def test_check_accepts_local_files_and_globs(root: Path, tmp_path: Path) -> None:
    write_csv(root / "people.csv", PEOPLE)
    (root / "sub").mkdir()
    write_csv(root / "sub" / "a.csv", PEOPLE)
    for url in ("/local/people.csv", "people.csv", "/local/sub/*.csv", "/local/**/*.csv"):
        result = run(root, tmp_path, "check", config(url, reader_options="{}"))
        assert result.one("CONNECTION_STATUS")["connectionStatus"] == {"status": "SUCCEEDED"}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"provider": {"storage": "HTTPS"}}, "local files only"),
        ({"provider": {"storage": "S3", "reader_impl": "s3fs"}}, "'S3' is not supported"),
        ({"format": "excel_binary"}, "'excel_binary' is not supported"),
        ({"format": "xml"}, "unknown format"),
        ({"url": "/etc/passwd"}, "must start with /local/"),
        ({"url": "/local/../outside.csv"}, "escapes the data root"),
        ({"url": "/local/link.csv"}, "escapes the data root"),
        ({"url": "/local/nothing-*.csv"}, "no file matches"),
        ({"reader_options": "{'sep': ';'}"}, "reader_options is not valid JSON"),
        ({"cursor_field": "nope"}, "cursor_field 'nope' is not a column"),
        ({"dataset_name": ""}, "$.dataset_name"),
    ],
)
def test_check_refuses_bad_configs(
    root: Path, tmp_path: Path, change: dict[str, Any], words: str
) -> None:
    write_csv(root / "people.csv", PEOPLE)
    write_csv(tmp_path / "outside.csv", PEOPLE)
    (root / "link.csv").symlink_to(tmp_path / "outside.csv")  # a link that leaves the root
    result = run(root, tmp_path, "check", {**config("/local/people.csv"), **change})
    assert result.returncode == 0
    status = result.one("CONNECTION_STATUS")["connectionStatus"]
    assert status["status"] == "FAILED"
    assert words in status["message"]


def test_discover_infers_csv_types(root: Path, tmp_path: Path) -> None:
    write_csv(root / "people.csv", PEOPLE)
    stream = discover(root, tmp_path, config("/local/people.csv", cursor_field="id"))
    assert stream["name"] == "people"
    assert stream["json_schema"]["properties"] == {
        "id": {"type": ["null", "integer"]},
        "name": {"type": ["null", "string"]},
        "score": {"type": ["null", "number"]},
        "active": {"type": ["null", "boolean"]},
        "born": {"type": ["null", "string"], "format": "date"},
        "seen": {"type": ["null", "string"], "format": "date-time"},
    }
    assert stream["supported_sync_modes"] == ["full_refresh", "incremental"]
    assert stream["source_defined_cursor"] is False
    assert stream["default_cursor_field"] == ["id"]


def test_full_refresh_reads_typed_csv_rows(root: Path, tmp_path: Path) -> None:
    write_csv(root / "people.csv", PEOPLE)
    result = read(root, tmp_path, config("/local/people.csv"))
    assert result.returncode == 0, result.stderr
    assert [r["data"] for r in result.records] == [
        {"id": 1, "name": "Ann", "score": 1.5, "active": True, "born": "1990-01-02",
         "seen": "2024-01-01T10:00:00Z"},
        {"id": 2, "name": "Bob, Jr.", "score": None, "active": False, "born": "1985-03-04",
         "seen": "2024-01-02T10:00:00Z"},
        {"id": 3, "name": "Cy", "score": 3.0, "active": True, "born": None,
         "seen": "2024-01-03T10:00:00Z"},
    ]  # fmt: skip
    assert {r["stream"] for r in result.records} == {"people"}
    assert len(result.states) == 1


def test_reader_options_and_values_that_do_not_fit_the_schema(root: Path, tmp_path: Path) -> None:
    rows = ["id;amount", "1;10", "2;NA", "3;12", "4;twelve"]
    write_csv(root / "semi.csv", rows)
    cfg = config(
        "/local/semi.csv", reader_options='{"sep": ";", "na_values": ["NA"]}', sample_rows=3
    )
    result = read(root, tmp_path, cfg)
    assert [r["data"] for r in result.records] == [
        {"id": 1, "amount": 10},
        {"id": 2, "amount": None},
        {"id": 3, "amount": 12},
        {"id": 4, "amount": None},
    ]
    assert result.records[3]["meta"]["changes"] == [
        {"field": "amount", "change": "NULLED", "reason": "SOURCE_SERIALIZATION_ERROR"}
    ]
    assert "meta" not in result.records[1]  # a null is not a change


def test_csv_without_header_takes_names(root: Path, tmp_path: Path) -> None:
    write_csv(root / "plain.csv", ["1,a", "2,b"])
    cfg = config("/local/plain.csv", reader_options='{"header": null, "names": ["n", "letter"]}')
    assert [r["data"] for r in read(root, tmp_path, cfg).records] == [
        {"n": 1, "letter": "a"},
        {"n": 2, "letter": "b"},
    ]


def test_a_csv_of_a_header_alone_discovers_its_columns(root: Path, tmp_path: Path) -> None:
    write_csv(root / "head.csv", ["id,name"])
    stream = discover(root, tmp_path, config("/local/head.csv"))
    assert stream["json_schema"]["properties"] == {
        "id": {"type": ["null", "string"]},
        "name": {"type": ["null", "string"]},
    }
    assert read(root, tmp_path, config("/local/head.csv")).records == []


def test_incremental_reads_rows_after_the_saved_cursor(root: Path, tmp_path: Path) -> None:
    path = root / "events.csv"
    write_csv(path, ["id,kind", *[f"{n},k{n % 3}" for n in range(1, 8)]])
    cfg = config("/local/events.csv", cursor_field="id", state_checkpoint_interval=3)
    first = read(root, tmp_path, cfg, "incremental")
    assert [r["data"]["id"] for r in first.records] == list(range(1, 8))
    assert [s["stream"]["stream_state"] for s in first.states] == [{"id": 3}, {"id": 6}, {"id": 7}]
    # Each checkpoint is emitted after the records it covers and before the next ones.
    kinds = [m["type"] for m in first.messages if m["type"] in ("RECORD", "STATE")]
    assert kinds[:5] == ["RECORD", "RECORD", "RECORD", "STATE", "RECORD"]

    write_csv(path, ["id,kind", *[f"{n},k{n % 3}" for n in range(1, 11)]])
    second = read(root, tmp_path, cfg, "incremental", state=[first.states[-1]])
    assert [r["data"]["id"] for r in second.records] == [8, 9, 10]
    assert second.states[-1]["stream"]["stream_state"] == {"id": 10}
    assert second.states[-1]["sourceStats"]["recordCount"] == 3.0

    nothing = read(root, tmp_path, cfg, "incremental", state=[second.states[-1]])
    assert nothing.records == []
    assert nothing.states[-1]["stream"]["stream_state"] == {"id": 10}


def test_checkpoints_only_between_distinct_cursor_values(root: Path, tmp_path: Path) -> None:
    days = ["2024-01-01", "2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"]
    write_csv(root / "d.csv", ["day,n", *[f"{d},{i}" for i, d in enumerate(days)]])
    cfg = config("/local/d.csv", state_checkpoint_interval=2)
    result = read(root, tmp_path, cfg, "incremental", cursor="day")
    cursors = [s["stream"]["stream_state"]["day"] for s in result.states]
    # Never a state in the middle of the 2024-01-01 rows: a retry from it would skip some.
    assert cursors == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_rows_out_of_cursor_order_get_only_a_final_state(root: Path, tmp_path: Path) -> None:
    write_csv(root / "u.csv", ["id", "5", "1", "7", "2", "9", "3"])
    cfg = config("/local/u.csv", cursor_field="id", state_checkpoint_interval=1)
    result = read(root, tmp_path, cfg, "incremental")
    assert len(result.records) == 6
    assert [s["stream"]["stream_state"] for s in result.states] == [{"id": 9}]


def test_incremental_without_a_cursor_is_a_config_error(root: Path, tmp_path: Path) -> None:
    write_csv(root / "people.csv", PEOPLE)
    result = read(root, tmp_path, config("/local/people.csv"), "incremental")
    assert result.returncode == 1
    assert result.errors[0]["failure_type"] == "config_error"
    assert "needs a cursor" in result.errors[0]["message"]


def test_jsonl_glob_reads_every_file_in_name_order(root: Path, tmp_path: Path) -> None:
    (root / "in").mkdir()
    (root / "in" / "b.jsonl").write_text('{"id": 3, "v": 1.5, "tags": ["x"]}\n')
    (root / "in" / "a.jsonl").write_text(
        '{"id": 1, "v": 1, "nested": {"k": true}}\n\n{"id": 2, "v": null}\n'
    )
    cfg = config("/local/in/*.jsonl", "jsonl")
    stream = discover(root, tmp_path, cfg)
    assert stream["json_schema"]["properties"] == {
        "id": {"type": ["null", "integer"]},
        "v": {"type": ["null", "number"]},
        "nested": {"type": ["null", "object"]},
        "tags": {"type": ["null", "array"]},
    }
    result = read(root, tmp_path, cfg)
    assert [r["data"] for r in result.records] == [
        {"id": 1, "v": 1, "nested": {"k": True}},
        {"id": 2, "v": None},
        {"id": 3, "v": 1.5, "tags": ["x"]},
    ]


def test_json_array_file(root: Path, tmp_path: Path) -> None:
    (root / "a.json").write_text('[{"id": 1, "ok": true}, {"id": 2, "ok": false}]')
    result = read(root, tmp_path, config("/local/a.json", "json"))
    assert [r["data"] for r in result.records] == [{"id": 1, "ok": True}, {"id": 2, "ok": False}]


def test_a_broken_jsonl_line_fails_the_read(root: Path, tmp_path: Path) -> None:
    (root / "a.jsonl").write_text('{"id": 1}\n{"id": 2}\n{"id": \n')
    cfg = config("/local/a.jsonl", "jsonl", sample_rows=1)
    result = read(root, tmp_path, cfg)
    assert result.returncode == 1
    assert "line 3 is not JSON" in result.errors[0]["message"]
    assert len(result.records) == 2


def test_parquet_types_and_incremental(root: Path, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    base = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)
    table = pa.table(
        {
            "id": pa.array(range(1, 6), pa.int64()),
            "price": pa.array([1.5, 2.5, None, 4.0, 5.25]),
            "ok": pa.array([True, False, True, None, True]),
            "name": pa.array(["a", "b", "c", "d", "e"]),
            "at": pa.array([base + datetime.timedelta(hours=h) for h in range(5)]),
        }
    )
    pq.write_table(table, root / "t.parquet")
    cfg = config("/local/t.parquet", "parquet", cursor_field="at", state_checkpoint_interval=2)
    properties = discover(root, tmp_path, cfg)["json_schema"]["properties"]
    assert properties == {
        "id": {"type": ["null", "integer"]},
        "price": {"type": ["null", "number"]},
        "ok": {"type": ["null", "boolean"]},
        "name": {"type": ["null", "string"]},
        "at": {"type": ["null", "string"], "format": "date-time"},
    }
    first = read(root, tmp_path, cfg, "incremental")
    assert [r["data"]["id"] for r in first.records] == [1, 2, 3, 4, 5]
    assert first.records[2]["data"]["price"] is None
    assert first.records[0]["data"]["at"] == "2024-05-01T00:00:00Z"
    last = first.states[-1]
    assert last["stream"]["stream_state"] == {"at": "2024-05-01T04:00:00Z"}
    assert len(first.states) == 3  # after 2, after 4, final

    later = pa.table({**{c: table[c] for c in table.column_names}})
    extra = {
        "id": [6],
        "price": [6.0],
        "ok": [False],
        "name": ["f"],
        "at": [base + datetime.timedelta(hours=5)],
    }
    pq.write_table(
        pa.concat_tables([later, pa.table(extra, schema=table.schema)]), root / "t.parquet"
    )
    second = read(root, tmp_path, cfg, "incremental", state=[last])
    assert [r["data"]["id"] for r in second.records] == [6]


@pytest.mark.docker
@pytest.mark.usefixtures("connector_images")
def test_image_reads_files_under_local(root: Path, tmp_path: Path) -> None:
    """The image reads `/local/...` from the data root mounted at /local, as Airbyte's do."""
    write_csv(root / "people.csv", PEOPLE)
    cfg = config("/local/people.csv", cursor_field="id")
    catalog = configured_catalog([discover(root, tmp_path, cfg)], "incremental")
    job = tmp_path / "job"
    job.mkdir()
    (job / "config.json").write_bytes(msgspec.json.encode(cfg))
    (job / "catalog.json").write_bytes(msgspec.json.encode(catalog))
    for path in (tmp_path, root, job):
        path.chmod(0o755)
    done = subprocess.run(
        ["docker", "run", "--rm", "-i", "--network", "none", "-v", f"{job}:/data",
         "-v", f"{root}:/local:ro", "sluice/source-file:0.1.0",
         "read", "--config", "/data/config.json", "--catalog", "/data/catalog.json"],
        capture_output=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    result = Result(done.returncode, done.stdout.splitlines(), "")
    assert [r["data"]["id"] for r in result.records] == [1, 2, 3]
    assert result.states[-1]["stream"]["stream_state"] == {"id": 3}
