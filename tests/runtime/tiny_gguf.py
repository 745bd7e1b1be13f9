"""Write a tiny random-weight llama-architecture GGUF model (a few hundred KB) with the `gguf` package,
for a real llama.cpp server to serve in tests. Nothing is downloaded. The vocabulary is SentencePiece
style: control tokens, the 256 byte tokens (so any text encodes), and a few word pieces; every token
string is unique, as llama.cpp requires."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np


def write_tiny_llama(path: str, *, n_embd: int = 64, n_layer: int = 2, n_head: int = 4, n_ff: int = 128,
                     n_ctx: int = 2048, seed: int = 0) -> str:
    import gguf

    rng = np.random.default_rng(seed)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + \
        [f"\u2581{w}" for w in ("the", "a", "answer", "is", "yes", "no", "one", "two", "three", "four")]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + \
        [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * 10
    vocab = len(tokens)
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("murakkab-tiny-random")
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * 3 + [-1000.0] * 256 + [-1.0] * 10)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)

    def t(name, *shape):
        w.add_tensor(name, (rng.standard_normal(shape) * 0.05).astype(np.float32))

    t("token_embd.weight", vocab, n_embd)
    for i in range(n_layer):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(n_embd, np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(n_embd, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            t(f"blk.{i}.{name}.weight", n_embd, n_embd)
        t(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
    w.add_tensor("output_norm.weight", np.ones(n_embd, np.float32))
    t("output.weight", vocab, n_embd)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@contextmanager
def tiny_llama_server(directory, *, n_ctx: int = 2048, extra: tuple[str, ...] = ()):
    """Write the tiny model into `directory`, serve it with llama-cpp-python's OpenAI-compatible
    server on a free loopback port (alias 'tiny'), yield its /v1 base URL, and stop it after.
    `extra`: more server flags (e.g. ('--interrupt_requests', 'False') so concurrent streams queue
    instead of the newest cutting the running one off)."""
    import httpx

    from tests.server.live import free_port

    model = write_tiny_llama(os.path.join(str(directory), "tiny.gguf"), n_ctx=n_ctx)
    port = free_port()
    log_path = os.path.join(str(directory), "server.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                             "--port", str(port), "--n_ctx", str(n_ctx), "--model_alias", "tiny", *extra],
                            stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 90
    while True:
        try:
            if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise AssertionError(f"llama.cpp server did not start: {open(log_path).read()[-2000:]}")
        time.sleep(0.3)
    try:
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
