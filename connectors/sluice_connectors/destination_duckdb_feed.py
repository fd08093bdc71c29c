"""One running DuckDB INSERT fed with a stream's record lines as they arrive (destination-duckdb).

DuckDB's insert is fastest over a long input of whole row groups: each Arrow batch that fills
a row group becomes one as it is, on every thread, while a statement per batch of the reading
loop ends each statement with a part-filled row group whose rows are copied again, and runs a
100,000-line batch on one thread. So the writer starts one statement per stream and
transaction, whose input is an Arrow stream read from a small queue, and the batches the loop
hands over are re-cut into row groups on their way in. The queue holds one row group and at
most one more is held back while it fills (or HELD_BYTES of wide lines): the writer, and so
the loop, waits while DuckDB is behind, so memory stays bounded.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

ROW_GROUP = 122_880  # DuckDB's rows per row group
# Lines held back for a row group at most: wider records go on in the batches they came in.
HELD_BYTES = 64 * 1024 * 1024
# Lines one statement takes before the writer ends it and starts the next: DuckDB may keep the
# Arrow input of a row group alive until the row group is full, which wide records never fill.
STATEMENT_BYTES = 256 * 1024 * 1024
WAIT_SECONDS = 0.05  # how often a blocked hand-over looks whether the statement has ended


class Feed:
    """The lines of one table, streamed into one `INSERT` running in a thread of its own."""

    def __init__(self, db: Any, pyarrow: Any, insert_sql: str, numbered: bool) -> None:
        self.pa = pyarrow
        self.numbered = numbered  # a `seq` column (arrival order) for the deduplication stage
        fields = [("line", pyarrow.string())]
        if numbered:
            fields.append(("seq", pyarrow.int64()))
        self.schema = pyarrow.schema(fields)
        self.pieces: list[Any] = []  # arrays of lines not yet cut into a row group
        self.rows = 0  # lines in `pieces`
        self.held = 0  # their bytes
        self.sent = 0  # bytes of lines handed to the statement
        self.seq = 0
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self.ended = threading.Event()  # the statement returned (or failed)
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self._run, args=(db, insert_sql), name="duckdb-insert", daemon=True
        )
        self.thread.start()

    def _batches(self) -> Iterator[Any]:
        while (batch := self.queue.get()) is not None:
            yield batch

    def _run(self, db: Any, insert_sql: str) -> None:
        try:
            reader = self.pa.RecordBatchReader.from_batches(self.schema, self._batches())
            db.register("batch_lines", reader)
            db.execute(insert_sql)
        except BaseException as exc:  # reported by `end`, in the writer's thread
            self.error = exc
        finally:
            try:
                db.unregister("batch_lines")
            finally:
                self.ended.set()

    def add(self, arrays: list[Any]) -> None:
        """Lines to insert (Arrow string arrays, in order); returns once DuckDB has room for
        them, or at once when the statement has failed (`end` says why)."""
        for array in arrays:
            if len(array):
                self.pieces.append(array)
                self.rows += len(array)
                self.held += array.nbytes
        while self.rows >= ROW_GROUP and not self.ended.is_set():
            self._send(self._take(ROW_GROUP))
        if self.held >= HELD_BYTES:  # wide lines: passed on as they came, without a copy
            pieces, self.pieces, self.rows, self.held = self.pieces, [], 0, 0
            for piece in pieces:
                self._send(piece)

    def _take(self, count: int) -> Any:
        taken: list[Any] = []
        need = count
        while need:
            piece = self.pieces[0]
            if len(piece) <= need:
                taken.append(self.pieces.pop(0))
                need -= len(piece)
            else:
                taken.append(piece.slice(0, need))
                self.pieces[0] = piece.slice(need)
                need = 0
        self.rows -= count
        self.held = sum(piece.nbytes for piece in self.pieces)
        return taken[0] if len(taken) == 1 else self.pa.concat_arrays(taken)

    def _send(self, lines: Any) -> None:
        self.sent += lines.nbytes
        columns = [lines]
        if self.numbered:
            columns.append(self.pa.array(range(self.seq, self.seq + len(lines)), self.pa.int64()))
            self.seq += len(lines)
        self._put(self.pa.record_batch(columns, schema=self.schema))

    def _put(self, item: Any) -> None:
        while not self.ended.is_set():
            try:
                self.queue.put(item, timeout=WAIT_SECONDS)
                return
            except queue.Full:
                continue

    @property
    def failed(self) -> bool:
        return self.ended.is_set() and self.error is not None

    @property
    def full(self) -> bool:
        """Whether this statement has taken enough: the writer ends it and starts another."""
        return self.sent >= STATEMENT_BYTES

    def end(self) -> None:
        """Send what is left, wait for the statement; raise what it failed with."""
        if self.rows and not self.ended.is_set():
            self._send(self._take(self.rows))
        self._put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abort(self) -> None:
        """Stop the statement without the lines still held (the transaction is rolled back)."""
        self.pieces, self.rows, self.held = [], 0, 0
        sent = False
        while not self.ended.is_set():
            if not sent:
                try:
                    self.queue.put_nowait(None)
                    sent = True
                except queue.Full:  # drop the waiting row group: the end must get in
                    with contextlib.suppress(queue.Empty):
                        self.queue.get_nowait()
            self.ended.wait(WAIT_SECONDS)
        self.thread.join()
