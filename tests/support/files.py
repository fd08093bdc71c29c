"""Files of every format files/upload takes, made here (the same table in each), and helpers
to upload them through the API."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path
from typing import Any

import fastavro
import httpx
import openpyxl
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from tests.support.api_jobs import ok

# id (integer), name (text, one null), score (number), active (boolean), day (date)
ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "ada", "score": 1.5, "active": True, "day": "2024-01-02"},
    {"id": 2, "name": None, "score": 2.25, "active": False, "day": "2024-01-03"},
    {"id": 3, "name": "cyd", "score": 3.0, "active": True, "day": "2024-01-04"},
]
DUCKDB = "94bd199c-2ff0-4aa2-b98e-17f0acb72610"


def csv_bytes(delimiter: str = ",") -> bytes:
    lines = [delimiter.join(ROWS[0])]
    for row in ROWS:
        cells = [
            "" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
            for v in row.values()
        ]
        lines.append(delimiter.join(cells))
    return ("\n".join(lines) + "\n").encode()


def _table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([r["id"] for r in ROWS], pa.int64()),
            "name": pa.array([r["name"] for r in ROWS], pa.string()),
            "score": pa.array([r["score"] for r in ROWS], pa.float64()),
            "active": pa.array([r["active"] for r in ROWS], pa.bool_()),
            "day": pa.array([datetime.date.fromisoformat(r["day"]) for r in ROWS], pa.date32()),
        }
    )


def parquet_bytes() -> bytes:
    out = io.BytesIO()
    pq.write_table(_table(), out)
    return out.getvalue()


def feather_bytes() -> bytes:
    out = io.BytesIO()
    feather.write_feather(_table(), out)
    return out.getvalue()


def excel_bytes() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Notes"
    sheet.append(["ignored"])
    data = book.create_sheet("People")
    data.append(list(ROWS[0]))
    for row in ROWS:
        data.append([datetime.date.fromisoformat(v) if k == "day" else v for k, v in row.items()])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def avro_bytes() -> bytes:
    schema = {
        "type": "record",
        "name": "Person",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "name", "type": ["null", "string"]},
            {"name": "score", "type": "double"},
            {"name": "active", "type": "boolean"},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        ],
    }
    records = [{**r, "day": datetime.date.fromisoformat(r["day"])} for r in ROWS]
    out = io.BytesIO()
    fastavro.writer(out, fastavro.parse_schema(schema), records)
    return out.getvalue()


# format -> (file name, bytes, options for upload)
SAMPLES: dict[str, tuple[str, bytes, dict[str, Any]]] = {
    "csv": ("people.csv", csv_bytes(";"), {}),
    "json": ("people.json", json.dumps(ROWS).encode(), {}),
    "jsonl": ("people.jsonl", "\n".join(json.dumps(r) for r in ROWS).encode(), {}),
    "parquet": ("people.parquet", parquet_bytes(), {}),
    "feather": ("people.feather", feather_bytes(), {}),
    "excel": ("people.xlsx", excel_bytes(), {"sheet_name": "People"}),
    "avro": ("people.avro", avro_bytes(), {}),
}


async def upload(
    client: httpx.AsyncClient,
    workspace: str,
    name: str,
    data: bytes,
    **fields: str,
) -> httpx.Response:
    return await client.post(
        "/api/v1/files/upload",
        data={"workspaceId": workspace, **fields},
        files={"file": (name, data)},
    )


async def uploaded(
    client: httpx.AsyncClient, workspace: str, name: str, data: bytes, **fields: str
) -> dict[str, Any]:
    reply = await upload(client, workspace, name, data, **fields)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def preview(client: httpx.AsyncClient, file_id: str, **extra: Any) -> dict[str, Any]:
    return await ok(client, "files/preview", {"fileId": file_id, **extra})


def stored_files(data_dir: Path) -> list[Path]:
    """Every file under <data_dir>/files (kept uploads and anything left staged)."""
    root = data_dir / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
