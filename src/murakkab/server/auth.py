"""Who is calling: `Authorization: Bearer <api key>` resolved to a tenant (keys stored hashed in the
journal), or the single tenant 'default' when the server runs with auth off. Plans are the
operator's: only admin tenants may create or deploy them."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request

from murakkab.runtime.journal import Tenant
from murakkab.runtime.service import Runtime


@dataclass(frozen=True)
class Access:
    """The FastAPI dependencies `tenant` (any key) and `admin` (an admin tenant's key)."""
    tenant: object
    admin: object


def access(rt: Runtime, *, auth: bool, admin_tenants: frozenset[str], default_concurrency: int) -> Access:
    def tenant(request: Request) -> Tenant:
        if not auth:
            return Tenant("default", default_concurrency)
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            raise HTTPException(401, "missing API key (fix: send 'Authorization: Bearer <key>')")
        t = rt.journal.tenant_for_key(header[7:].strip())
        if t is None:
            raise HTTPException(401, "unknown API key (fix: use a key from 'murakkab tenant add')")
        return t

    def admin(t: Tenant = Depends(tenant)) -> Tenant:
        if auth and t.name not in admin_tenants:
            raise HTTPException(403, f"tenant '{t.name}' may not change plans (admin tenants only)")
        return t

    return Access(tenant, admin)
