"""The orchestrator LLM behind any OpenAI-compatible `/chat/completions` endpoint.

Three ways to get a structured answer: `tools` forces one function call whose parameters are the
answer's JSON schema (`tool_choice` names it); `json_schema` asks for OpenAI's `response_format`
of that schema; `json_object` sends the schema in the `{"type": "json_object", "schema": ...}`
form llama-cpp-python's server reads. Servers that constrain decoding to the schema (llama.cpp turns
either into a grammar) return parseable JSON even from a weak model; murakkab's own type checks
decide whether the answer is right either way.

Transport problems (nothing listening, a timeout, an HTTP error, a body that is not a chat
completion) raise `OrchestratorUnavailable` naming the URL and the fix; an answer that arrives but
is not the JSON asked for comes back as a `Reply` with `problem` set, so the caller can send the
problem back to the model and ask again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Literal

import httpx

from murakkab.errors import MurakkabError


class OrchestratorError(MurakkabError):
    """The orchestrator could not produce an answer that passes the checks."""


class OrchestratorUnavailable(OrchestratorError):
    """The orchestrator's backend cannot be reached or does not speak the chat-completions API."""


@dataclass(frozen=True)
class BackendConfig:
    base_url: str                               # e.g. http://127.0.0.1:8080/v1
    model: str                                  # the `model` field sent to the server
    mode: Literal["tools", "json_schema", "json_object"] = "tools"
    api_key_env: str | None = None              # environment variable holding the key (never the key)
    timeout_s: float = 120.0
    max_tokens: int = 1024
    temperature: float = 0.0

    def __post_init__(self):
        if not self.base_url.startswith(("http://", "https://")):
            raise OrchestratorError(f"orchestrator URL '{self.base_url}' is not http(s) "
                                    "(fix: pass the OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1)")
        if self.mode not in ("tools", "json_schema", "json_object"):
            raise OrchestratorError(f"orchestrator mode '{self.mode}' is unknown "
                                    "(fix: use tools, json_schema or json_object)")
        if not self.model:
            raise OrchestratorError("the orchestrator model name is empty (fix: pass the served model's name)")


@dataclass(frozen=True)
class Reply:
    raw: str                      # what the model returned (tool-call arguments or message content)
    data: object | None           # the parsed JSON, or None
    problem: str | None = None    # why `data` is None: the text is not JSON


class ChatBackend:
    """Asks one structured question per call (synchronous: compile runs it directly, the server in a
    worker thread)."""

    def __init__(self, config: BackendConfig, client: httpx.Client | None = None):
        self.cfg = config
        self._client = client or httpx.Client(timeout=httpx.Timeout(config.timeout_s, connect=5.0))

    def close(self) -> None:
        self._client.close()

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.cfg.api_key_env, "") if self.cfg.api_key_env else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def body(self, messages: list[dict], name: str, description: str, schema: dict) -> dict:
        """The chat-completions request body for one structured question."""
        body: dict = {"model": self.cfg.model, "messages": messages, "temperature": self.cfg.temperature,
                      "max_tokens": self.cfg.max_tokens}
        if self.cfg.mode == "tools":
            body["tools"] = [{"type": "function",
                              "function": {"name": name, "description": description, "parameters": schema}}]
            body["tool_choice"] = {"type": "function", "function": {"name": name}}
        elif self.cfg.mode == "json_object":
            body["response_format"] = {"type": "json_object", "schema": schema}
        else:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": name, "schema": schema, "strict": True}}
        return body

    def ask(self, messages: list[dict], name: str, description: str, schema: dict) -> Reply:
        url = f"{self.cfg.base_url.rstrip('/')}/chat/completions"
        try:
            resp = self._client.post(url, json=self.body(messages, name, description, schema),
                                     headers=self._headers())
        except httpx.ConnectError as exc:
            raise OrchestratorUnavailable(f"orchestrator backend {url} is unreachable ({exc}) (fix: start the "
                                          "server or pass the right --orchestrator URL; without one, the "
                                          "deterministic matcher resolves sentences)") from None
        except httpx.TimeoutException:
            raise OrchestratorUnavailable(f"orchestrator backend {url} did not answer within {self.cfg.timeout_s:g} s "
                                          "(fix: check the server's load, or raise the timeout)") from None
        except httpx.HTTPError as exc:
            raise OrchestratorUnavailable(f"orchestrator backend {url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code >= 400:
            raise OrchestratorUnavailable(f"orchestrator backend {url} answered HTTP {resp.status_code}: "
                                          f"{resp.text[:300]} (fix: check the model name and that the server "
                                          f"supports {self.cfg.mode})")
        try:
            message = resp.json()["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise OrchestratorUnavailable(f"orchestrator backend {url} did not return a chat completion: "
                                          f"{resp.text[:200]!r} (fix: point it at an OpenAI-compatible /v1 URL)") from None
        raw = _answer_text(message)
        if raw is None:
            return Reply(raw="", data=None, problem="the answer had neither a function call nor content")
        try:
            return Reply(raw=raw, data=json.loads(raw))
        except json.JSONDecodeError as exc:
            return Reply(raw=raw, data=None, problem=f"the answer is not valid JSON ({exc.msg} at character {exc.pos})")


def _answer_text(message: dict) -> str | None:
    """The forced function call's arguments, else the message content."""
    calls = message.get("tool_calls") or []
    for call in calls:
        fn = call.get("function") or {}
        args = fn.get("arguments")
        if isinstance(args, dict):
            return json.dumps(args)
        if isinstance(args, str):
            return args
    content = message.get("content")
    return content if isinstance(content, str) and content.strip() else None
