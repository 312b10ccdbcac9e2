"""A local OpenAI-compatible chat server on loopback for the model-path tests.

It records every request it receives and answers according to `mode`: a good answer, an HTTP
error (401, 429, 500), a reply held back until the client times out, a body that is not JSON,
an empty message, prose instead of JSON, or an answer citing a number the input does not hold.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NUMBER = re.compile(r"\d+\.\d")


@dataclass
class FakeModel:
    url: str
    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def payload(self, index: int = -1) -> dict[str, Any]:
        """The findings the model was shown (the user message of a request)."""
        messages = self.requests[index]["messages"]
        return json.loads(next(m["content"] for m in messages if m["role"] == "user"))


def good_answer(payload: dict[str, Any], extra: str = "") -> str:
    """A well-formed narrative that only repeats numbers found in the payload."""
    first = payload["vs_prior_years"][0] if payload["vs_prior_years"] else None
    detail = (
        f"{first['subject']} averaged {first['mean_a']:.1f} against {first['mean_b']:.1f}."
        if first
        else "There is no earlier year."
    )
    return json.dumps(
        {
            "summary": f"{payload['cohort']}: {payload['students']} students. {detail}{extra}",
            "key_findings": [detail],
            "year_over_year": [],
            "celebrate": [],
            "look_into": [],
            "next_steps": ["Check again after the next test window."],
        }
    )


def _completion(content: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": "test-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()


def _handler(model: FakeModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 — the http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            model.raw.append(body)
            request = json.loads(body)
            model.requests.append(request)
            payload = model.payload()
            error = {"error": {"message": "nope", "type": "test", "code": None}}
            if model.mode in ("401", "429", "500"):
                self._send(int(model.mode), json.dumps(error).encode())
            elif model.mode == "slow":
                model.release.wait(10)
                self._send(200, _completion(good_answer(payload)))
            elif model.mode == "malformed":
                self._send(200, b'{"choices": [ {"message": ')
            elif model.mode == "empty":
                self._send(200, _completion(""))
            elif model.mode == "prose":
                self._send(200, _completion("Sure! The cohort did fine overall."))
            elif model.mode == "invented":
                self._send(200, _completion(good_answer(payload, " Scores rose 123.4 points.")))
            else:
                self._send(200, _completion(good_answer(payload)))

    return Handler


@contextmanager
def fake_model() -> Iterator[FakeModel]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(FakeModel("")))
    model = FakeModel(f"http://127.0.0.1:{server.server_address[1]}/v1")
    server.RequestHandlerClass = _handler(model)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield model
    finally:
        model.release.set()
        server.shutdown()
        server.server_close()
