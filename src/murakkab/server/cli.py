"""`murakkab serve` and `murakkab tenant add` (heavy imports inside the commands)."""

from __future__ import annotations

import ipaddress
import socket
import sqlite3
from pathlib import Path

import typer

tenant_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Manage tenants and their API keys.")


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    db: Path = typer.Option(Path("murakkab.db"), help="SQLite journal (created if missing)"),
    plan: Path | None = typer.Option(None, help="plan JSON to deploy when the journal has no active plan"),
    backends: Path | None = typer.Option(None, help="backends YAML (models/tools -> endpoints); default: all simulated"),
    time_scale: float = typer.Option(1.0, help="simulated backend speed: 1 = real time, 0.01 = 100x faster"),
    no_auth: bool = typer.Option(False, "--no-auth", help="single tenant 'default', no API keys (local use only)"),
    autoscale: bool = typer.Option(False, help="run the shared reactive autoscaler"),
    reoptimize: bool = typer.Option(False, help="run the shared epoch re-optimizer (EWMA forecast, re-plan)"),
    epoch_min: float = typer.Option(60.0, help="re-optimizer epoch in (model) minutes"),
    provisioning_s: float = typer.Option(120.0, help="(model) seconds before a new instance serves"),
    peak_factor: float | None = typer.Option(None, help="re-plans size for forecast x this (default: the running "
                                             "plan's peak/average ratio per route)"),
    replan_check_min: float | None = typer.Option(None, help="check arrivals every this many (model) minutes and "
                                                  "re-plan early when they rise beyond the running plan (default: off)"),
    max_body_bytes: int = typer.Option(1_000_000, help="largest accepted request body"),
    max_tokens: int | None = typer.Option(None, help="cap on generated tokens per model call"),
    orchestrator: str | None = typer.Option(None, metavar="URL", help="OpenAI-compatible base URL of the LLM that "
                                            "decomposes requests naming no workflow (default: the matcher)"),
    orchestrator_model: str = typer.Option("default", help="model name sent to the orchestrator backend"),
    orchestrator_mode: str = typer.Option("tools", help="tools, json_schema or json_object"),
    request_timeout: float = typer.Option(600.0, help="deadline (s) of a request whose tier has no latency target; "
                                          "a latency tier's is 3x its target"),
    shutdown_timeout: float = typer.Option(10.0, help="on SIGTERM, seconds to let in-flight requests finish before "
                                           "they are cancelled (journalled: they run again at the next start)"),
) -> None:
    """Start the HTTP API (FastAPI + uvicorn)."""
    import uvicorn

    from murakkab.errors import MurakkabError
    from murakkab.orchestrator.backend import BackendConfig
    from murakkab.runtime.backends import BackendsConfig, load_backends
    from murakkab.policy.autoscaler import AutoscalerConfig
    from murakkab.policy.replan import ReplanSettings
    from murakkab.runtime.service import Deadlines, Limits, RuntimeConfig, check_config
    from murakkab.server.app import ServerConfig, create_app
    try:
        cfg = RuntimeConfig(db_path=str(db), plan=_read_plan(plan) if plan else None,
                            backends=load_backends(backends) if backends else BackendsConfig(),
                            time_scale=time_scale, autoscale=autoscale, max_tokens=max_tokens,
                            autoscaler=AutoscalerConfig(provisioning_delay_s=provisioning_s),
                            reoptimize=reoptimize,
                            replan=ReplanSettings(epoch_s=epoch_min * 60.0, provisioning_delay_s=provisioning_s,
                                                  peak_factor=peak_factor,
                                                  check_s=replan_check_min * 60.0 if replan_check_min else None),
                            limits=Limits(max_body_bytes=max_body_bytes),
                            orchestrator=BackendConfig(base_url=orchestrator, model=orchestrator_model,
                                                       mode=orchestrator_mode) if orchestrator else None,
                            deadlines=Deadlines(request_s=request_timeout))
        check_config(cfg)        # everything the app's startup would refuse, before uvicorn starts
        if not shutdown_timeout >= 0:
            raise MurakkabError(f"--shutdown-timeout must be >= 0, got {shutdown_timeout}")
        sock = _listen(host, port)
    except (MurakkabError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except sqlite3.Error as exc:
        typer.echo(f"error: {journal_problem(db, exc)}", err=True)
        raise typer.Exit(2) from None
    if no_auth and not _loopback(host):
        typer.echo(f"warning: --no-auth on {host}: anyone who can reach this address can call every route as tenant "
                   "'default', plans included (fix: serve on 127.0.0.1, or drop --no-auth and add tenants)", err=True)
    app = create_app(ServerConfig(runtime=cfg, auth=not no_auth))
    typer.echo(f"murakkab: listening on http://{_hostport(host, port)} (API docs at /docs; SIGTERM stops it within "
               f"{shutdown_timeout:g} s)")
    # Keep idle connections longer than clients do (httpx: 5 s), so a client never reuses a
    # connection the server is closing at that moment (a lost request under load).
    uvicorn.run(app, fd=sock.fileno(), host=host, port=port, log_level="warning", timeout_keep_alive=75,
                timeout_graceful_shutdown=shutdown_timeout)


def _listen(host: str, port: int) -> socket.socket:
    """The bound, listening socket (so "listening on" is printed only once it is true)."""
    from murakkab.errors import MurakkabError
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(2048)
    except OSError as exc:
        raise MurakkabError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (fix: pick a free --port, or "
                            "another --host)") from None
    sock.set_inheritable(True)
    return sock


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _read_plan(path: Path):
    from murakkab.errors import MurakkabError
    from murakkab.plan.schema import Plan
    try:
        return Plan.from_json(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise MurakkabError(f"cannot read the plan {path}: {exc} (fix: pass an existing plan JSON file)") from None
    except ValueError as exc:      # pydantic's ValidationError is a ValueError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MurakkabError(f"{path} is not a valid plan ({first}) (fix: make one with "
                            "'murakkab plan ... --out PLAN.json')") from None


@tenant_app.command("add")
def tenant_add(name: str, db: Path = typer.Option(Path("murakkab.db"), help="SQLite journal"),
               max_concurrency: int = typer.Option(64, help="requests in flight at once")) -> None:
    """Create a tenant and print its API key (shown once; only its hash is stored)."""
    from murakkab.errors import MurakkabError
    from murakkab.runtime.journal import Journal
    try:
        j = Journal(str(db))
    except sqlite3.Error as exc:
        typer.echo(f"error: {journal_problem(db, exc)}", err=True)
        raise typer.Exit(2) from None
    try:
        key = j.add_tenant(name, max_concurrency)
    except MurakkabError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        j.close()
    typer.echo(key)


def journal_problem(db: Path, exc: sqlite3.Error) -> str:
    """One line on a journal SQLite cannot open or read, with the likely fix."""
    if not db.parent.is_dir():
        fix = f"the directory {db.parent} does not exist: create it, or pass --db in an existing directory"
    elif db.exists():
        fix = "pass a murakkab journal (an SQLite file this command created), or a new file name"
    else:
        fix = "pass --db in a directory you can write to"
    return f"cannot open the journal {db}: {exc} (fix: {fix})"


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(tenant_app, name="tenant")
