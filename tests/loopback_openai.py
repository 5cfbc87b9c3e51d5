"""A scriptable OpenAI-compatible chat server on 127.0.0.1, for driving the real
``ChatOpenAI`` client through transport faults and odd answers.

``LoopbackOpenAI(rule)`` calls ``rule(body, n)`` for the n-th request (0-based; ``body``
is the parsed JSON request) and serves what it returns:

* ``answer(text, tool_calls=None)`` — a normal chat completion;
* ``status(code, body=None, headers=None)`` — an HTTP error (429 with ``Retry-After``…);
* ``slow(seconds, then)`` — wait, then serve ``then``;
* ``drop()`` — close the connection without a response;
* ``raw(bytes)`` — a 200 whose body is these bytes (malformed JSON…).

Every request is counted (``requests``) and its Authorization header kept (``auth``).
Only the loopback interface is used; the server thread stops with :meth:`close`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Action = dict[str, Any]
Rule = Callable[[dict[str, Any], int], Action]


def answer(text: str, tool_calls: list[dict[str, Any]] | None = None) -> Action:
    return {"kind": "answer", "text": text, "tool_calls": tool_calls or []}


def status(code: int, body: Any = None, headers: dict[str, str] | None = None) -> Action:
    return {"kind": "status", "code": code, "body": body, "headers": headers or {}}


def slow(seconds: float, then: Action) -> Action:
    return {"kind": "slow", "seconds": seconds, "then": then}


def drop() -> Action:
    return {"kind": "drop"}


def raw(data: bytes) -> Action:
    return {"kind": "raw", "data": data}


def role_of(body: dict[str, Any]) -> str:
    """Which agent is asking, from its system prompt."""
    system = str(body.get("messages", [{}])[0].get("content", ""))
    for role in ("Partitioner", "Reflector", "Designer"):
        if role in system:
            return role.lower()
    return "other"


def completion(body: dict[str, Any], text: str, tool_calls: list[dict[str, Any]]) -> bytes:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": c.get("id", f"call_{i}"),
                "type": "function",
                "function": {"name": c["name"], "arguments": c.get("arguments", "{}")},
            }
            for i, c in enumerate(tool_calls)
        ]
    reply = {
        "id": "chatcmpl-loopback",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "m"),
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls" if tool_calls else "stop",
                "message": message,
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107},
    }
    return json.dumps(reply).encode()


class LoopbackOpenAI:
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.requests = 0
        self.auth: list[str] = []
        self.served: list[str] = []  # kind of every action served
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(data)
                except ValueError:
                    body = {}
                with server._lock:
                    n = server.requests
                    server.requests += 1
                    server.auth.append(self.headers.get("Authorization", ""))
                server._serve(self, body, server.rule(body, n))

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def _serve(self, h: BaseHTTPRequestHandler, body: dict[str, Any], act: Action) -> None:
        kind = act["kind"]
        with self._lock:
            self.served.append(kind)
        if kind == "slow":
            time.sleep(act["seconds"])
            return self._serve(h, body, act["then"])
        if kind == "drop":
            h.close_connection = True
            h.connection.close()
            return None
        if kind == "answer":
            code, headers, data = 200, {}, completion(body, act["text"], act["tool_calls"])
        elif kind == "raw":
            code, headers, data = 200, {}, act["data"]
        else:
            code, headers = act["code"], act["headers"]
            payload = act["body"] or {"error": {"message": f"HTTP {code}", "type": "error"}}
            data = json.dumps(payload).encode()
        try:
            h.send_response(code)
            h.send_header("Content-Type", "application/json")
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except OSError:  # the client gave up (its timeout): nothing to answer
            pass
        return None

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
