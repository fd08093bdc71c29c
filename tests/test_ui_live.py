"""The live log over a real server (`sluice serve`): a job's log lines reach the browser while
the job runs, not when it ends, and the stream ends with the job's final status."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.api_jobs import DEV_NULL, SILENT, make_connection, make_destination, make_source
from tests.support.serving import ServerProcess
from tests.support.ui import sign_in, submit

pytestmark = [pytest.mark.serve, pytest.mark.slow]


async def test_the_log_of_a_running_job_arrives_while_it_runs(
    server_process: ServerProcess,
) -> None:
    server_process.start()
    async with (
        httpx.AsyncClient(base_url=server_process.url, auth=("airbyte", "password")) as api,
        httpx.AsyncClient(base_url=server_process.url, timeout=60) as b,
    ):
        # About 4 s of records, one every 200 ms.
        source = await make_source(api, {"max_messages": 20, "message_interval_ms": 200})
        destination = await make_destination(api, DEV_NULL, SILENT)
        cid = await make_connection(api, source, destination)
        assert (await sign_in(b)).status_code == 303
        r = await submit(b, f"/connections/{cid}", f"/connections/{cid}/sync")
        job_id = int(r.headers["location"].rsplit("/", 1)[1])
        page = await b.get(f"/jobs/{job_id}")
        assert f'data-stream="/jobs/{job_id}/log-stream' in page.text

        seen: list[tuple[float, str, str]] = []
        kind = ""
        async with b.stream("GET", f"/jobs/{job_id}/log-stream") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    seen.append((time.monotonic(), kind, line.removeprefix("data: ")))
        assert seen[-1][1:] == ("end", "succeeded"), seen[-3:]
        assert ("status", "running") in [(k, d) for _, k, d in seen]
        first_line = next(t for t, k, _ in seen if k == "line")
        # Lines came as they were written, well before the end.
        assert seen[-1][0] - first_line > 1.5, [(round(t - first_line, 2), k) for t, k, _ in seen]
        done = await b.get(f"/jobs/{job_id}")
        assert "succeeded" in done.text and "data-stream" not in done.text
