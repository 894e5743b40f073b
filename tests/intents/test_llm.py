"""The LLM path against a local stub that speaks the OpenAI chat-completions protocol.

The stub is the one mock here: no model exists on this machine. It answers from a script of
contents, records every request, and checks the request shape a real endpoint would require.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from intents.llm import LLMConfig
from intents.llm import parse_with_llm
from intents.parser import parse_intent
from intents.schema import DCAIntent
from intents.schema import IntentError


class Stub:
    """A chat-completions endpoint answering ``answers`` in order; ``requests`` as received."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                stub.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions" or "messages" not in body:
                    self.send_response(404)
                    self.end_headers()
                    return
                content = stub.answers.pop(0)
                answer = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                }
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture
def stub() -> Iterator[Stub]:
    s = Stub()
    thread = threading.Thread(target=s.server.serve_forever, daemon=True)
    thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()
    thread.join(timeout=5)


def config(stub: Stub, **kw: Any) -> LLMConfig:
    return LLMConfig(base_url=stub.url, model="stub-model", **kw)


DCA_JSON = json.dumps(
    {
        "template": "dca",
        "coin": "ETH",
        "budget_usd": "500",
        "duration_secs": 36000,
        "interval_secs": 1800,
    }
)
TEXT = "please put five hundred dollars into ether, a bit every half hour for ten hours"


def test_valid_json_answer_becomes_the_same_intent_the_parser_gives(stub: Stub) -> None:
    stub.answers = [DCA_JSON]
    intent = parse_with_llm(TEXT, config(stub))
    assert intent == parse_intent("DCA $500 into ETH over 10 hours every 30m")
    assert isinstance(intent, DCAIntent) and intent.budget_usd == Decimal(500)
    (request,) = stub.requests
    assert request["model"] == "stub-model"
    assert request["response_format"] == {"type": "json_object"}
    assert request["messages"][-1] == {"role": "user", "content": TEXT}
    assert '"template"' in request["messages"][0]["content"]  # the schema is in the prompt


def test_invalid_answer_is_retried_once_with_the_problems(stub: Stub) -> None:
    stub.answers = ['{"template": "dca", "coin": "ETH", "interval_secs": 1800}', DCA_JSON]
    intent = parse_with_llm(TEXT, config(stub))
    assert isinstance(intent, DCAIntent)
    assert len(stub.requests) == 2
    retry = stub.requests[1]["messages"][-1]["content"]
    assert "That answer is invalid: budget_usd: give two of" in retry


def test_two_invalid_answers_are_a_clear_refusal(stub: Stub) -> None:
    stub.answers = ["not json at all", '{"template": "dca", "coin": 7}']
    with pytest.raises(IntentError) as caught:
        parse_with_llm(TEXT, config(stub))
    (problem,) = caught.value.problems
    assert problem.field == "llm"
    assert problem.message.startswith("no valid intent after 2 answers (last: coin:")
    assert len(stub.requests) == 2


def test_model_saying_what_is_missing_is_a_refusal_naming_it(stub: Stub) -> None:
    stub.answers = ['{"missing": "which coin"}']
    with pytest.raises(IntentError) as caught:
        parse_with_llm("DCA $500 every 30m for 10 hours", config(stub))
    assert [str(p) for p in caught.value.problems] == ["text: missing: which coin"]


def test_api_key_comes_from_the_named_variable_and_a_missing_one_is_refused(
    stub: Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JARVIS_TEST_LLM_KEY", raising=False)
    with pytest.raises(IntentError, match="JARVIS_TEST_LLM_KEY unset"):
        parse_with_llm(TEXT, config(stub, api_key_env="JARVIS_TEST_LLM_KEY"))
    monkeypatch.setenv("JARVIS_TEST_LLM_KEY", "sk-test-123")
    stub.answers = [DCA_JSON]
    parse_with_llm(TEXT, config(stub, api_key_env="JARVIS_TEST_LLM_KEY"))
    assert stub.headers[-1]["Authorization"] == "Bearer sk-test-123"


def test_unreachable_endpoint_is_a_refusal_not_a_crash() -> None:
    cfg = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", timeout_secs=2)
    with pytest.raises(IntentError) as caught:
        parse_with_llm(TEXT, cfg)
    assert caught.value.problems[0].field == "llm"
    assert "could not be reached" in caught.value.problems[0].message


def test_config_rejects_a_base_url_without_a_scheme() -> None:
    with pytest.raises(ValueError, match="base_url: must start with http"):
        LLMConfig(base_url="127.0.0.1:8000", model="m")
