"""A minimal loopback stand-in for an OpenAI-compatible speech-to-text server
(`POST /v1/audio/transcriptions`, multipart form with `file` and `model`, answer `{"text": ...}`).

It exists because no real transcription server (Whisper) can run here: no model weights may be
downloaded. It does not recognise speech; its "transcript" reports what it measured in the upload
(the WAV's duration and sample rate, the file name and model), so a test can check that the right
audio arrived. Modes: "ok"; "500-once" (the first request gets HTTP 500, later ones succeed);
"hang" (never answers). `requests` records (filename, model, duration_s) per accepted upload.
"""

from __future__ import annotations

import asyncio
import io
import json
import socket
import threading
import time
import wave
from email.parser import BytesParser
from email.policy import HTTP

import uvicorn


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """name -> (filename, bytes) of each part of a multipart/form-data body (stdlib email parser)."""
    msg = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    out = {}
    for part in msg.iter_parts():
        out[part.get_param("name", header="content-disposition")] = (part.get_filename(),
                                                                      part.get_payload(decode=True))
    return out


class TranscriptionServer:
    def __init__(self, mode: str = "ok"):
        self.mode, self.hits, self.requests = mode, 0, []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error",
                                                     interface="asgi3"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    async def _reply(self, send, status: int, body: dict):
        data = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": data})

    async def app(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        self.hits += 1
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        if scope["method"] != "POST" or scope["path"] != "/v1/audio/transcriptions":
            return await self._reply(send, 404, {"error": {"message": "only POST /v1/audio/transcriptions"}})
        if self.mode == "hang":
            await asyncio.sleep(3600)
        if self.mode == "500-once" and self.hits == 1:
            return await self._reply(send, 500, {"error": {"message": "injected"}})
        ctype = dict(scope["headers"]).get(b"content-type", b"").decode()
        if not ctype.startswith("multipart/form-data"):
            return await self._reply(send, 400, {"error": {"message": "expected multipart/form-data"}})
        parts = parse_multipart(ctype, body)
        if "file" not in parts or "model" not in parts:
            return await self._reply(send, 400, {"error": {"message": "fields 'file' and 'model' are required"}})
        name, audio = parts["file"]
        try:
            with wave.open(io.BytesIO(audio)) as w:
                rate, duration = w.getframerate(), w.getnframes() / w.getframerate()
        except (wave.Error, EOFError):
            return await self._reply(send, 400, {"error": {"message": "file is not a WAV"}})
        model = parts["model"][1].decode()
        self.requests.append((name, model, duration))
        await self._reply(send, 200, {"text": f"{duration:.2f} s of audio at {rate} Hz in {name} for {model}"})

    def __enter__(self):
        self._thread.start()
        deadline = time.time() + 20
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("transcription server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)
