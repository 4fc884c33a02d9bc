"""The one composition root: `create_app(settings, database_url=...)`.

It builds every part from `Settings` (the runtime through `haoban.root`, which
`haoban worker` shares), opens the outside systems in the lifespan and attaches
them to the runtime, and hands the outbox worker its handler table.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, OAuthFlow, OAuthFlows, SecurityScheme, Server

from haoban import __version__
from haoban.applications.routes import router as applications_router
from haoban.catalog.routes import router as catalog_router
from haoban.citizens.routes import router as citizens_router
from haoban.cors import OnlyConfiguredOrigins, cors_config
from haoban.db.pool import create_pool
from haoban.deps import provide_conn, provide_runtime
from haoban.docs.routes import router as docs_router
from haoban.exchange.consent.routes import router as exchange_router
from haoban.exchange.ingest.routes import router as ingest_router
from haoban.exchange.sources.routes import router as fund_router
from haoban.exchange.sources.wiring import open_sources
from haoban.fundcentre.reconcile import running_reconciliation
from haoban.fundcentre.wiring import open_fund_centre
from haoban.health.routes import router as health_router
from haoban.housekeeping import running_housekeeping
from haoban.identity.face.engine import FaceEngine
from haoban.identity.routes import router as identity_router
from haoban.kit.clock import Clock, OffsetClock, SystemClock
from haoban.kit.decoding import StrictRequest, bounded_integers
from haoban.kit.events import listener_var
from haoban.kit.openapi import document_framework_problems
from haoban.kit.problems import exception_handlers
from haoban.materials.routes import letters_router as materials_letters_router
from haoban.materials.routes import router as materials_router
from haoban.miniprogram.routes import router as miniprogram_router
from haoban.miniprogram.wiring import open_platforms
from haoban.oauth.routes import router as oauth_router
from haoban.oauth.scopes import INGEST_SCOPES
from haoban.observability.metrics import Metrics
from haoban.observability.middleware import RequestMiddleware
from haoban.observability.routes import metrics as metrics_route
from haoban.outbox.worker import running_worker
from haoban.payouts.callbacks import router as bank_callbacks_router
from haoban.payouts.wiring import open_bank
from haoban.root import build_runtime, outbox_batch_handlers, outbox_handlers
from haoban.route_limits import ingest_limit
from haoban.sandbox.bench_routes import router as sandbox_bench_router
from haoban.sandbox.faulty_sources import with_faults
from haoban.sandbox.identity import router as sandbox_identity_router
from haoban.sandbox.knobs import following_clock
from haoban.sandbox.knobs import router as sandbox_knobs_router
from haoban.sandbox.miniprogram_routes import router as sandbox_miniprogram_router
from haoban.sandbox.routes import router as sandbox_router
from haoban.sandbox.sources import router as sandbox_sources_router
from haoban.settings import Settings
from haoban.simulators.bank.routes import router as sandbox_bank_router
from haoban.simulators.fundcentre.routes import router as sandbox_fund_router
from haoban.simulators.notifier import SandboxNotifier
from haoban.staff.routes import router as staff_router
from haoban.tokens.routes import router as tokens_router


def openapi_config() -> OpenAPIConfig:
    """The schema at /openapi/openapi.json and .yaml; the interactive docs are at /docs (haoban.docs)."""
    return OpenAPIConfig(
        title="Haoban API",
        version=__version__,
        description=(
            "Haoban (好办): face-verified government services with data linked from the systems that hold it. "
            "Every error is RFC 9457 application/problem+json."
        ),
        servers=[Server(url="/")],
        path="/openapi",
        # Only the schema itself: Litestar's UI plugins load their scripts from CDNs.
        render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="An access token (typ at+jwt) in the Authorization header.",
                ),
                "staffBearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="A staff access token (audience haoban-staff) from POST /v1/staff/login.",
                ),
                "clientSecretBasic": SecurityScheme(
                    type="http",
                    scheme="basic",
                    description="An OAuth confidential client's id and secret (RFC 6749 section 2.3.1).",
                ),
                "metricsBearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="The metrics token (HAOBAN_METRICS_TOKEN) for GET /metrics.",
                ),
                "departmentSecret": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="Deprecated: a source department's secret (HAOBAN_DEPARTMENT_CREDENTIALS).",
                ),
                "clientCredentials": SecurityScheme(
                    type="oauth2",
                    description="A confidential client's client-credentials access token (department systems).",
                    flows=OAuthFlows(
                        client_credentials=OAuthFlow(
                            token_url="/oauth/token",  # noqa: S106 (a URL)
                            scopes={scope: f"write {scope[len('ingest.') :]} records" for scope in INGEST_SCOPES},
                        )
                    ),
                ),
            }
        ),
        security=[{"bearer": []}],
        use_handler_docstrings=False,
        create_examples=False,
    )


def create_app(
    settings: Settings, *, database_url: str, clock: Clock | None = None, face_engine: FaceEngine | None = None
) -> Litestar:
    """Everything from `settings`; nothing here reads the environment (`load_settings` did, once).

    `face_engine`: one the caller owns and closes (tests share one).
    """
    # The sandbox's clock can be moved forward by a tester (/sandbox/clock); production's never.
    sandbox_clock = OffsetClock(clock or SystemClock()) if settings.sandbox else None
    runtime = build_runtime(
        settings, database_url=database_url, clock=sandbox_clock or clock or SystemClock(), face_engine=face_engine
    )
    metrics = Metrics(multiprocess=settings.observability.multiprocess_dir is not None)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        pool = await create_pool(database_url, settings.database)
        runtime.attach_pool(pool, notifier=SandboxNotifier(pool, runtime.clock) if settings.sandbox else None)
        # Background work started below (outbox worker, housekeeping) counts its domain events here too.
        listener_var.set(metrics.on_event)
        try:
            async with (
                open_sources(settings, database_url, runtime.clock) as sources,
                open_platforms(
                    settings.miniprogram,
                    sandbox=settings.sandbox,
                    pool=pool,
                    clock=runtime.clock,
                    hmac_key=settings.security.token_hmac_key,
                ) as platforms,
                open_bank(settings, pool, runtime.clock) as bank,
                open_fund_centre(settings, pool, runtime.clock) as fund_centre,
            ):
                runtime.attach(
                    sources=with_faults(sources, pool) if settings.sandbox else sources,
                    platforms=platforms,
                    bank=bank,
                    fund_centre=fund_centre,
                )
                async with (
                    following_clock(sandbox_clock, pool) if sandbox_clock else contextlib.nullcontext(),
                    running_worker(runtime, runtime.outbox, outbox_handlers(), outbox_batch_handlers()),
                    running_housekeeping(runtime, settings.services.housekeeping_s),
                    running_reconciliation(
                        runtime,
                        every_s=settings.fund_centre.reconcile_every_s,
                        first_s=settings.fund_centre.reconcile_first_s,
                    ),
                ):
                    yield
        finally:
            runtime.detach()
            await runtime.close_face()
            await pool.close()

    cors = cors_config(settings.http.cors_origins)
    app = Litestar(
        route_handlers=[
            health_router,
            tokens_router,
            citizens_router,
            exchange_router,
            catalog_router,
            applications_router,
            materials_router,
            materials_letters_router,
            staff_router,
            fund_router,
            identity_router,
            # Department ingestion is limited per address and per credential before its own authentication.
            Router(path="/", route_handlers=[ingest_router], guards=[ingest_limit]),
            oauth_router,
            sandbox_router,
            sandbox_sources_router,
            sandbox_identity_router,
            sandbox_bank_router,
            sandbox_fund_router,
            sandbox_bench_router,
            sandbox_knobs_router,
            bank_callbacks_router,
            miniprogram_router,
            sandbox_miniprogram_router,
            metrics_route,
            docs_router,
        ],
        lifespan=[lifespan],
        state=State(
            {
                "runtime": runtime,
                "metrics": metrics,
                "observability": settings.observability,
                "sandbox_clock": sandbox_clock,
            }
        ),
        dependencies={
            "conn": Provide(provide_conn),
            "runtime": Provide(provide_runtime, sync_to_thread=False),
        },
        exception_handlers=exception_handlers(),
        request_class=StrictRequest,  # JSON bodies: Content-Type, bad bytes and strict types (haoban.kit.decoding)
        before_request=bounded_integers,  # integer parameters fit a 64-bit column (haoban.kit.decoding)
        openapi_config=openapi_config(),
        cors_config=cors,  # configured H5 origins only (haoban.cors)
        request_max_body_size=settings.http.max_body_bytes,
        logging_config=None,  # observability.logging owns the handlers; Litestar's would replace them
        debug=False,
    )
    # Around the whole handler, not per route, so 404s and 405s get a request id too.
    # The problems every route of a shape can give (bad bodies, parameters, a missing token) are in its spec.
    document_framework_problems(app)
    # Security headers too (haoban.observability.headers); HSTS when the issuer is https.
    hsts = settings.security.issuer.startswith("https://")
    if cors is not None:
        app.asgi_handler = OnlyConfiguredOrigins(app.asgi_handler, cors)
    app.asgi_handler = RequestMiddleware(app.asgi_handler, metrics=metrics, hsts=hsts)
    return app
