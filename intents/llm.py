"""The optional LLM path: text -> the same intent schema, through an OpenAI-compatible endpoint.

The model is asked for strict JSON (``response_format`` ``json_object``, the intent union's JSON
schema in the system message). Its answer is decoded and checked exactly like any other intent;
an invalid answer is sent back once with the problems found, and a second invalid answer is a
clear refusal (``IntentError`` on field ``llm``). The model may refuse itself by answering
``{"missing": "..."}``, which becomes a refusal naming what is missing. Nothing here guesses.

Why stdlib ``urllib``: one small synchronous POST per attempt; no client library is needed.
The API key is read from the environment variable the config names, never stored or logged.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Final

import msgspec

from intents.schema import Intent
from intents.schema import IntentError
from intents.schema import Problem
from intents.schema import decode_intent
from intents.schema import intent_json_schema
from intents.schema import intent_problems

__all__ = ["LLMConfig", "parse_with_llm"]

MAX_ATTEMPTS: Final[int] = 2

SYSTEM_PROMPT: Final[str] = """\
You turn a trader's instruction for the Hyperliquid exchange into ONE JSON object that matches \
this JSON schema exactly (field "template" selects the kind; units are in the field names; \
amounts are decimal strings). Never invent a value the instruction does not give: if a required \
piece is missing or ambiguous, answer {"missing": "<what is missing, in a few words>"} instead. \
Answer with the JSON object only.
Schema:
"""


class LLMConfig(msgspec.Struct, frozen=True, kw_only=True):
    """
    Where the OpenAI-compatible chat endpoint is.

    Parameters
    ----------
    base_url : str
        Up to ``/v1`` (``/chat/completions`` is appended).
    model : str
        The model name sent in each request.
    api_key_env : str, optional
        The environment variable holding the API key (None: no key sent).
    timeout_secs : float
        Per request.
    """

    base_url: str
    model: str
    api_key_env: str | None = None
    timeout_secs: float = 30.0

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url: must start with http:// or https://, was {self.base_url!r}"
            )
        if not self.timeout_secs > 0:
            raise ValueError(f"timeout_secs: must be > 0, was {self.timeout_secs}")


def _post(config: LLMConfig, messages: list[dict[str, str]]) -> str:
    body = {
        "model": config.model,
        "messages": messages,
        "temperature": 0,
        "response_format": {"type": "json_object"},
    }
    headers = {"Content-Type": "application/json"}
    if config.api_key_env:
        key = os.environ.get(config.api_key_env, "")
        if not key:
            raise IntentError([Problem("llm", f"environment variable {config.api_key_env} unset")])
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        config.base_url.rstrip("/") + "/chat/completions",
        data=json.dumps(body).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=config.timeout_secs) as response:
            answer = json.loads(response.read())
        return str(answer["choices"][0]["message"]["content"])
    except urllib.error.HTTPError as exc:
        raise IntentError([Problem("llm", f"the endpoint answered HTTP {exc.code}")]) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise IntentError([Problem("llm", f"the endpoint could not be reached ({exc})")]) from None
    except (ValueError, KeyError, IndexError, TypeError):
        raise IntentError(
            [Problem("llm", "the endpoint's answer is not a chat completion")]
        ) from None


def _read(content: str) -> Intent | list[Problem]:
    """The intent in a model answer, or the problems with it."""
    try:
        data = json.loads(content)
    except ValueError:
        return [Problem("llm", "the answer is not JSON")]
    if isinstance(data, dict) and set(data) == {"missing"}:
        raise IntentError([Problem("text", f"missing: {data['missing']}")])
    if not isinstance(data, dict):
        return [Problem("llm", "the answer is not a JSON object")]
    try:
        intent = decode_intent(data)
    except IntentError as exc:
        return exc.problems
    return intent_problems(intent) or intent


def parse_with_llm(text: str, config: LLMConfig) -> Intent:
    """Ask the model for the intent in ``text``; one retry on an invalid answer, then refuse."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT + json.dumps(intent_json_schema())},
        {"role": "user", "content": text},
    ]
    problems: list[Problem] = []
    for _attempt in range(MAX_ATTEMPTS):
        content = _post(config, messages)
        result = _read(content)
        if not isinstance(result, list):
            return result
        problems = result
        messages.append({"role": "assistant", "content": content})
        messages.append(
            {
                "role": "user",
                "content": "That answer is invalid: "
                + "; ".join(str(p) for p in problems)
                + '. Answer again with one valid JSON object, or {"missing": ...}.',
            }
        )
    detail = "; ".join(str(p) for p in problems)
    raise IntentError(
        [Problem("llm", f"no valid intent after {MAX_ATTEMPTS} answers (last: {detail})")]
    )
