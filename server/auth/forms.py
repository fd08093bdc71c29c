"""Form-encoded token requests, read as the JSON body they stand for.

The public API's token operation takes its body as JSON or `application/x-www-form-urlencoded`
(the airbyte-api SDK, Airflow and Terraform send the form). So that one handler and one model
serve both, this layer rewrites a form body on the token paths into the equivalent JSON object
(and its content type to match) before the request goes further.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.auth.middleware import TOKEN_PATHS, error_body
from server.auth.replies import send_reply

FORM = b"application/x-www-form-urlencoded"
# A token request is three short fields; more is not one.
MAX_FORM_BYTES = 64 * 1024


class FormTokenMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["path"].rstrip("/") or "/") not in TOKEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        content_type = next((v for k, v in headers if k == b"content-type"), b"")
        if content_type.split(b";")[0].strip().lower() != FORM:
            await self.app(scope, receive, send)
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if len(raw) > MAX_FORM_BYTES:
                body = error_body("Token request body is too large", "PayloadTooLarge")
                await send_reply(send, 413, body, [])
                return
            if not message.get("more_body", False):
                break
        fields = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        data = msgspec.json.encode(fields)
        replaced = [(k, v) for k, v in headers if k not in {b"content-type", b"content-length"}] + [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
        ]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": data, "more_body": False}
            return await receive()

        await self.app({**scope, "headers": replaced}, replay, send)
