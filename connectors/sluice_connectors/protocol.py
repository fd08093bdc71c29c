"""Writing Airbyte messages to stdout, fast: msgspec encoding into one buffered binary stream."""

from __future__ import annotations

import io
import sys
import time
from typing import Any, BinaryIO

import msgspec

_encoder = msgspec.json.Encoder()


def now_ms() -> int:
    return int(time.time() * 1000)


def buffered_stdout(size: int = 1 << 20) -> BinaryIO:
    """Standard output behind one large buffer, for sources that write many records: few
    system calls. The connector must flush it (Output.flush) before exiting."""
    return io.BufferedWriter(io.FileIO(sys.stdout.fileno(), "wb", closefd=False), size)


class Output:
    """One message per line on stdout. Records are batched by the buffer; everything else
    (state, logs, traces) is flushed at once so the platform sees it promptly."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream or sys.stdout.buffer

    def message(self, message: dict[str, Any], flush: bool = True) -> None:
        self.stream.write(_encoder.encode(message) + b"\n")
        if flush:
            self.stream.flush()

    def raw_line(self, line: bytes) -> None:
        """A pre-encoded message line (without its newline): the hot path of sources."""
        self.stream.write(line + b"\n")

    def flush(self) -> None:
        self.stream.flush()

    def log(self, message: str, level: str = "INFO") -> None:
        self.message({"type": "LOG", "log": {"level": level, "message": message}})

    def spec(self, spec: dict[str, Any]) -> None:
        self.message({"type": "SPEC", "spec": spec})

    def connection_status(self, ok: bool, message: str | None = None) -> None:
        status: dict[str, Any] = {"status": "SUCCEEDED" if ok else "FAILED"}
        if message:
            status["message"] = message
        self.message({"type": "CONNECTION_STATUS", "connectionStatus": status})

    def catalog(self, streams: list[dict[str, Any]]) -> None:
        self.message({"type": "CATALOG", "catalog": {"streams": streams}})

    def record(self, stream: str, data: dict[str, Any], namespace: str | None = None) -> None:
        record: dict[str, Any] = {"stream": stream, "data": data, "emitted_at": now_ms()}
        if namespace:
            record["namespace"] = namespace
        self.message({"type": "RECORD", "record": record}, flush=False)

    def state(self, state: dict[str, Any]) -> None:
        self.message({"type": "STATE", "state": state})

    def stream_status(self, stream: str, status: str, namespace: str | None = None) -> None:
        descriptor: dict[str, Any] = {"name": stream}
        if namespace:
            descriptor["namespace"] = namespace
        trace = {
            "type": "STREAM_STATUS",
            "emitted_at": float(now_ms()),
            "stream_status": {"stream_descriptor": descriptor, "status": status},
        }
        self.message({"type": "TRACE", "trace": trace})

    def error(self, message: str, failure_type: str = "system_error", internal: str = "") -> None:
        error: dict[str, Any] = {"message": message, "failure_type": failure_type}
        if internal:
            error["internal_message"] = internal
        trace = {"type": "ERROR", "emitted_at": float(now_ms()), "error": error}
        self.message({"type": "TRACE", "trace": trace})
