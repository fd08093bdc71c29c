"""destination-dev-null: discards records and echoes every STATE once what precedes it is read.

It takes the configuration of Airbyte's "End-to-End Testing (/dev/null)" destination:
`{"test_destination": {"test_destination_type": T, ...}}` with T one of

* SILENT: discard everything (also what an empty config `{}` means);
* LOGGING: discard, but log some records as LOG messages (`logging_config` with
  `logging_type` FirstN / EveryNth / RandomSampling and `max_entry_count`, `nth_entry_to_log`,
  `sampling_ratio`, `seed`);
* THROTTLED: slow consumption: sleep `millis_per_record` ms after each record, and/or (Sluice's
  addition) `millis_per_batch` ms after every `batch_size` records;
* FAILING: consume `num_messages` records, then fail with a TRACE ERROR and exit 1.

Records are never decoded: a line that starts like a RECORD is counted by its prefix; other
lines are decoded only as far as their `type`.
"""

from __future__ import annotations

import random
import time
from typing import Annotated, Any, BinaryIO, Literal

import msgspec

from sluice_connectors.entrypoint import ConfigError, Destination, main

RECORD_PREFIX = b'{"type":"RECORD"'
STATE_PREFIX = b'{"type":"STATE"'

Positive = Annotated[int, msgspec.Meta(ge=1)]


class LoggingConfig(msgspec.Struct, kw_only=True):
    logging_type: Literal["FirstN", "EveryNth", "RandomSampling"] = "FirstN"
    max_entry_count: Annotated[float, msgspec.Meta(ge=1)] = 100
    nth_entry_to_log: Positive = 1
    sampling_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.001
    seed: float | None = None


class Silent(msgspec.Struct, tag="SILENT", tag_field="test_destination_type"):
    pass


class Logging(msgspec.Struct, tag="LOGGING", tag_field="test_destination_type", kw_only=True):
    logging_config: LoggingConfig = msgspec.field(default_factory=LoggingConfig)


class Throttled(msgspec.Struct, tag="THROTTLED", tag_field="test_destination_type", kw_only=True):
    millis_per_record: Annotated[int, msgspec.Meta(ge=0)] = 0
    millis_per_batch: Annotated[int, msgspec.Meta(ge=0)] = 0
    batch_size: Positive = 1000


class Failing(msgspec.Struct, tag="FAILING", tag_field="test_destination_type", kw_only=True):
    num_messages: Annotated[int, msgspec.Meta(ge=0)]


class Config(msgspec.Struct, kw_only=True):
    test_destination: Silent | Logging | Throttled | Failing = msgspec.field(default_factory=Silent)


class _Type(msgspec.Struct):
    type: str = ""


class _Record(msgspec.Struct):
    record: msgspec.Raw = msgspec.Raw(b"null")


_type_decoder = msgspec.json.Decoder(_Type)
_record_decoder = msgspec.json.Decoder(_Record)


def parse_config(raw: Any) -> Config:
    try:
        return msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid configuration: {exc}") from None


class DestinationFailure(RuntimeError):
    """The configured FAILING mode."""


class DestinationDevNull(Destination):
    def spec(self) -> dict[str, Any]:
        return SPEC

    def check(self, config: dict[str, Any]) -> None:
        parse_config(config)

    def write(self, config: dict[str, Any], catalog: dict[str, Any], stdin: BinaryIO) -> None:
        mode = parse_config(config).test_destination
        self.records = self.states = 0
        self.hook = _record_hook(mode, self.out.log)
        if self.hook is None:
            self._discard_blocks(stdin)
        else:
            for line in stdin:
                self._line(line)
        self.out.log(
            f"destination-dev-null: discarded {self.records} records, echoed {self.states} states"
        )

    def _discard_blocks(self, stdin: BinaryIO) -> None:
        """The silent mode's fast path: a block of complete lines that are all RECORDs is
        counted without being split (a JSON line holds no raw newline, so each newline that
        is followed by the RECORD prefix starts a record)."""
        read = getattr(stdin, "read1", stdin.read)  # read1: what is there, without waiting
        pending: list[bytes] = []  # the start of a line that is not complete yet
        while chunk := read(1 << 20):
            end = chunk.rfind(b"\n") + 1
            if not end:
                pending.append(chunk)
                continue
            block = b"".join([*pending, chunk[:end]]) if pending else chunk[:end]
            pending = [chunk[end:]] if end < len(chunk) else []
            self._consume(block)
        if pending:
            self._line(b"".join(pending))

    def _consume(self, block: bytes) -> None:
        """Complete lines: runs of RECORD lines are counted, other lines handled one by one."""
        start, size = 0, len(block)
        state_line = b"\n" + STATE_PREFIX
        record_line = b"\n" + RECORD_PREFIX
        while start < size:
            if block.startswith(STATE_PREFIX, start):
                stop = block.index(b"\n", start) + 1
                self._line(block[start:stop])
            else:  # up to the next state line
                stop = block.find(state_line, start) + 1 or size
                lines = block.count(b"\n", start, stop)
                records = block.startswith(RECORD_PREFIX, start) + block.count(
                    record_line, start, stop
                )
                if records == lines:
                    self.records += lines
                else:
                    for line in block[start : stop - 1].split(b"\n"):
                        self._line(line)
            start = stop

    def _line(self, line: bytes) -> None:
        if line.startswith(RECORD_PREFIX):
            kind = "RECORD"
        elif line.startswith(STATE_PREFIX):
            kind = "STATE"
        elif not line.strip():
            return
        else:
            try:
                kind = _type_decoder.decode(line).type
            except msgspec.DecodeError as exc:
                number = self.records + self.states + 1
                raise ValueError(f"input line {number} is not JSON: {exc}") from None
        if kind == "RECORD":
            self.records += 1
            if self.hook is not None:
                self.hook(self.records, line)
        elif kind == "STATE":
            # Everything before this state has been consumed: hand it back, as received.
            self.out.stream.write(line if line.endswith(b"\n") else line + b"\n")
            self.out.flush()
            self.states += 1


def _record_hook(mode: Any, log: Any) -> Any:
    """Per-record work of the non-silent modes, or None (the fast path)."""
    if isinstance(mode, Failing):
        limit = mode.num_messages
        if limit == 0:
            raise DestinationFailure("fault injection: failing before any record")

        def fail(count: int, line: bytes) -> None:
            if count >= limit:
                raise DestinationFailure(f"fault injection: failing after {count} records")

        return fail
    if isinstance(mode, Throttled):
        per_record, per_batch = mode.millis_per_record / 1000, mode.millis_per_batch / 1000
        batch = mode.batch_size

        def throttle(count: int, line: bytes) -> None:
            if per_record:
                time.sleep(per_record)
            if per_batch and count % batch == 0:
                time.sleep(per_batch)

        return throttle if per_record or per_batch else None
    if isinstance(mode, Logging):
        cfg = mode.logging_config
        rng = random.Random(cfg.seed)
        logged = 0

        def sample(count: int, line: bytes) -> None:
            nonlocal logged
            if logged >= cfg.max_entry_count:
                return
            if cfg.logging_type == "EveryNth" and count % cfg.nth_entry_to_log:
                return
            if cfg.logging_type == "RandomSampling" and rng.random() >= cfg.sampling_ratio:
                return
            logged += 1
            log(f"record {count}: {bytes(_record_decoder.decode(line).record).decode()}")

        return sample
    return None


SPEC: dict[str, Any] = {
    "documentationUrl": "https://docs.airbyte.com/integrations/destinations/dev-null",
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "E2E Test Destination Spec",
        "type": "object",
        "additionalProperties": True,
        "properties": {
            "test_destination": {
                "title": "Test Destination",
                "description": "The type of destination to be used",
                "type": "object",
                "oneOf": [
                    {
                        "title": "Silent",
                        "type": "object",
                        "required": ["test_destination_type"],
                        "properties": {
                            "test_destination_type": {
                                "type": "string",
                                "enum": ["SILENT"],
                                "default": "SILENT",
                            }
                        },
                    },
                    {
                        "title": "Logging",
                        "type": "object",
                        "required": ["test_destination_type", "logging_config"],
                        "properties": {
                            "test_destination_type": {
                                "type": "string",
                                "enum": ["LOGGING"],
                                "default": "LOGGING",
                            },
                            "logging_config": {
                                "title": "Logging Configuration",
                                "type": "object",
                                "properties": {
                                    "logging_type": {
                                        "type": "string",
                                        "enum": ["FirstN", "EveryNth", "RandomSampling"],
                                        "default": "FirstN",
                                    },
                                    "max_entry_count": {
                                        "type": "number",
                                        "minimum": 1,
                                        "default": 100,
                                    },
                                    "nth_entry_to_log": {"type": "integer", "minimum": 1},
                                    "sampling_ratio": {
                                        "type": "number",
                                        "minimum": 0,
                                        "maximum": 1,
                                        "default": 0.001,
                                    },
                                    "seed": {"type": "number"},
                                },
                            },
                        },
                    },
                    {
                        "title": "Throttled",
                        "type": "object",
                        "required": ["test_destination_type"],
                        "properties": {
                            "test_destination_type": {
                                "type": "string",
                                "enum": ["THROTTLED"],
                                "default": "THROTTLED",
                            },
                            "millis_per_record": {
                                "type": "integer",
                                "description": "Milliseconds to wait after each record.",
                            },
                            "millis_per_batch": {
                                "type": "integer",
                                "description": "Milliseconds to wait after every batch_size "
                                "records.",
                            },
                            "batch_size": {"type": "integer", "minimum": 1, "default": 1000},
                        },
                    },
                    {
                        "title": "Failing",
                        "type": "object",
                        "required": ["test_destination_type", "num_messages"],
                        "properties": {
                            "test_destination_type": {
                                "type": "string",
                                "enum": ["FAILING"],
                                "default": "FAILING",
                            },
                            "num_messages": {
                                "type": "integer",
                                "description": "Number of records after which to fail.",
                            },
                        },
                    },
                ],
            }
        },
    },
    "supportsIncremental": True,
    "supportsNormalization": False,
    "supportsDBT": False,
    "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
}


def run() -> None:
    main(DestinationDevNull)


if __name__ == "__main__":
    run()
