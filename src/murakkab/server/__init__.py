"""HTTP API (FastAPI): `from murakkab.server.app import create_app`."""
