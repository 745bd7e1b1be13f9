"""A scripted OpenAI-compatible chat-completions server: a real HTTP server on loopback whose
answers are written by the test. It is the one stand-in in the orchestrator's tests: the real
llama.cpp server the suite starts serves a random-weight model that cannot pick executors sensibly,
so the regenerate loop's behaviour (a wrong answer, then a right one) needs answers we choose. The
request format is checked against the real llama.cpp server separately (test_llamacpp_orchestrator).

Each POST /v1/chat/completions takes the next scripted answer (a dict: sent as the forced function
call's arguments, or as JSON content when the request asked for a response_format; a str: sent as
is). When the script runs out, the last answer repeats. Every request body is recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer:
    def __init__(self, answers: list[dict | str]):
        self.answers = list(answers)
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):     # keep test output clean
                pass

            def do_POST(self):
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                outer.requests.append(body)
                answer = outer.answers[min(len(outer.requests), len(outer.answers)) - 1]
                text = answer if isinstance(answer, str) else json.dumps(answer)
                if "tools" in body:
                    name = body["tools"][0]["function"]["name"]
                    message = {"role": "assistant", "content": None, "tool_calls": [
                        {"id": f"call_{len(outer.requests)}", "type": "function",
                         "function": {"name": name, "arguments": text}}]}
                else:
                    message = {"role": "assistant", "content": text}
                self._send(200, {"id": f"chatcmpl-{len(outer.requests)}", "object": "chat.completion",
                                 "model": body.get("model"), "choices": [
                                     {"index": 0, "message": message, "finish_reason": "tool_calls"
                                      if "tools" in body else "stop"}],
                                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

            def _send(self, code: int, obj: dict):
                data = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ScriptedServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
