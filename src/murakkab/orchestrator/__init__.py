"""The orchestrator: resolves steps written as sentences (`does:`) to executors, and decomposes
natural-language requests into registered workflows (dynamic composition).

An LLM behind any OpenAI-compatible endpoint (tool calling or a JSON schema) proposes; murakkab's
own type checks decide, and a rejected answer is sent back with the error. Without an LLM the
deterministic matcher resolves what it can with a confidence.
"""
