"""``--llm openai:MODEL`` end to end against a local OpenAI-compatible server (the kind
vLLM, Ollama or llama.cpp expose): the real ChatOpenAI client, base URL and key from the
environment, token usage recorded, and the key never written to the run folder."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from agentnas.graph.config import RunConfig
from agentnas.graph.runner import start_run

KEY = "sk-test-0123456789abcdef-secret"
PARTITION = {"feature": "n_nor_conv_3x3", "groups": [[0, 1], [2, 6]], "rationale": "two bands"}
REFLECTION = {
    "add": [
        {
            "text": "Prefer nor_conv_3x3 on edge 3<-0 for accuracy.",
            "polarity": "positive",
            "evidence_for": 1,
        }
    ]
}


class FakeOpenAI(BaseHTTPRequestHandler):
    seen_auth: ClassVar[list[str]] = []
    requests: ClassVar[int] = 0

    def do_POST(self):  # http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeOpenAI.seen_auth.append(self.headers.get("Authorization", ""))
        FakeOpenAI.requests += 1
        system = body["messages"][0]["content"]
        if "Partitioner" in system:
            text = json.dumps(PARTITION)
        elif "Reflector" in system:
            text = json.dumps(REFLECTION)
        else:
            # a refusal that echoes the key: the Designer must fall back, the key stay unwritten
            text = f"I would rather not. Your key is {KEY}."
        reply = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": text},
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 7, "total_tokens": 107},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture
def server(monkeypatch):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{httpd.server_port}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    yield httpd
    httpd.shutdown()


def test_openai_compatible_server_drives_a_run(server, tmp_path):
    cfg = RunConfig(
        hardware="hwnasbench:eyeriss",
        budget=16,
        rounds=2,
        partitions=2,
        llm="openai:test-model",
        max_concurrency=1,
    )
    summary = start_run(cfg, tmp_path / "run")
    assert summary["llm"] == "openai:test-model" and summary["is_llm"] is True
    assert summary["evaluations"] == 16
    assert FakeOpenAI.requests > 0 and summary["llm_calls"] > 0
    assert summary["prompt_tokens"] >= 100 * summary["llm_calls"]
    assert all(a == f"Bearer {KEY}" for a in FakeOpenAI.seen_auth)  # the key was sent...
    for path in (tmp_path / "run").rglob("*"):  # ...and written nowhere
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    trace = (tmp_path / "run" / "trace.jsonl").read_text()
    assert "designer_fallback" in trace and "n_nor_conv_3x3" in trace
