"""HTTP: uploads, the materials checklist, acceptance (tolerant or complete), the letters' texts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.datastructures import State
from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import Body, FromPath, QueryParameter

from haoban.deps import Conn, RuntimeDep
from haoban.kit.errors import AppError, Forbidden
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.kit.problems import problem_response
from haoban.materials import files, letters, service
from haoban.materials.examples import ACCEPTANCE_EXAMPLE, LETTERS_EXAMPLE, STATUS_EXAMPLE, UPLOADED_EXAMPLE
from haoban.materials.schemas import Acceptance, AcceptanceCreate, Letter, LetterList, MaterialsStatus, Uploaded
from haoban.oauth.guard import SCOPED_GUARDS, is_delegated
from haoban.tokens.guard import AUTH_DEPENDENCIES, CurrentPrincipal, require_scope

READ = "applications.read"
WRITE = "applications.write"
# The file plus headers; Litestar answers 413 problem+json beyond it.
UPLOAD_LIMIT = files.MAX_BYTES


@dataclass
class UploadOperation(Operation):
    """The upload body is the raw file, not JSON: document it by hand."""

    def __post_init__(self) -> None:
        schema = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, max_length=files.MAX_BYTES)
        self.request_body = RequestBody(
            description=f"The file itself (not multipart): a JPEG, PNG or PDF of at most {files.LIMIT_TEXT}. "
            "Its first bytes must say what it is; a Content-Type that disagrees is refused.",
            required=True,
            content={t: OpenAPIMediaType(schema=schema, example="<the file's bytes>") for t in files.CONTENT_TYPES},
        )


@post(
    "/applications/{application_id:uuid}/materials",
    operation_id="uploadMaterial",
    summary="Upload one self-certified material (trust level C) for my application",
    description=(
        "The body is the raw file. `code` names one of the materials the service lists for upload. "
        "Stored with its SHA-256. Uploading the last item a tolerant-acceptance notice lists sends the "
        "application to review; an upload after the notice's deadline rejects it "
        "(409 `materials_deadline_missed`). Another citizen's application is 404."
    ),
    tags=["materials"],
    status_code=201,
    request_max_body_size=UPLOAD_LIMIT,
    operation_class=UploadOperation,
    responses={
        **success(201, Uploaded, "Stored", example("stored", UPLOADED_EXAMPLE)),
        **problems(
            400,
            401,
            403,
            404,
            409,
            413,
            422,
            codes={409: "materials_deadline_missed", 422: "material_rejected"},
        ),
    },
)
async def upload_material(
    *,
    principal: CurrentPrincipal,
    conn: Conn,
    runtime: RuntimeDep,
    request: Request[object, object, State],
    application_id: FromPath[UUID],
    code: Annotated[str, QueryParameter(name="code", pattern=r"^[a-z][a-z0-9_]*$", max_length=64)],
) -> Response[Uploaded]:
    require_scope(principal, WRITE)
    outcome = await service.upload(
        conn,
        runtime,
        citizen_id=principal.citizen_id,
        application_id=application_id,
        code=code,
        content=await request.body(),
        declared_type=request.headers.get("content-type"),
    )
    if isinstance(outcome, AppError):  # returned so the rejection commits
        problem = problem_response(request, status=outcome.status, code=outcome.code, detail=outcome.detail)
        return cast("Response[Uploaded]", problem)
    material, row = outcome
    return Response(Uploaded(material=material, application_status=row.status), status_code=201)


@get(
    "/applications/{application_id:uuid}/materials",
    operation_id="listMaterials",
    summary="The materials checklist of my application, what I uploaded and signed, and the notice",
    description="Metadata only; the files are never sent back. Another citizen's application is 404.",
    tags=["materials"],
    responses={
        **success(200, MaterialsStatus, "The checklist", example("tolerant acceptance", STATUS_EXAMPLE)),
        **problems(400, 401, 403, 404, 409, codes={409: "materials_not_applicable"}),
    },
)
async def list_materials(principal: CurrentPrincipal, conn: Conn, application_id: FromPath[UUID]) -> MaterialsStatus:
    require_scope(principal, READ)
    return await service.status(conn, citizen_id=principal.citizen_id, application_id=application_id)


@post(
    "/applications/{application_id:uuid}/acceptance",
    operation_id="acceptApplication",
    summary="Sign the authorization and commitment letter and have my application accepted",
    description=(
        "Signs the one authorization and commitment letter of 1+1+N (recorded as a consent for this "
        "application). All materials supplied: the application goes to review. Only secondary materials "
        "missing and the tolerant-acceptance commitment signed: accepted with one notice (容缺受理通知书) "
        "listing every missing item, how to supply it and the deadline. A missing primary material is 422 "
        "`primary_material_missing` naming it. Asking again after a notice returns that notice. "
        "Only the citizen's own app may sign (a delegated client token is 403)."
    ),
    tags=["materials"],
    status_code=200,
    responses={
        **success(200, Acceptance, "Accepted", example("tolerant acceptance", ACCEPTANCE_EXAMPLE)),
        **problems(400, 401, 403, 404, 409, 422, codes={409: "materials_closed", 422: "primary_material_missing"}),
    },
)
async def accept_application(
    principal: CurrentPrincipal,
    conn: Conn,
    runtime: RuntimeDep,
    application_id: FromPath[UUID],
    data: Annotated[
        AcceptanceCreate,
        Body(
            examples=example(
                "tolerant acceptance",
                {"authorization_version": letters.VERSION, "tolerant_commitment_version": letters.VERSION},
            )
        ),
    ],
) -> Acceptance:
    require_scope(principal, WRITE)
    if is_delegated(principal):
        raise Forbidden("Letters are signed in the citizen's own app.")
    return await service.accept(
        conn, runtime, citizen_id=principal.citizen_id, application_id=application_id, data=data
    )


@get(
    "/materials/letters",
    operation_id="listLetters",
    summary="The letters an applicant signs in the app, with their current version",
    tags=["materials"],
    security=PUBLIC,
    responses={**success(200, LetterList, "The letters", example("letters", LETTERS_EXAMPLE)), **problems()},
)
async def list_letters() -> LetterList:
    return LetterList(
        letters=[
            Letter(
                kind=kind,
                version=letters.VERSION,
                text_zh=letters.text(kind)[0],
                text_en=letters.text(kind)[1],
                text_sha256=letters.sha256(kind),
            )
            for kind in letters.KINDS
        ]
    )


router = Router(
    path="/v1",
    route_handlers=[upload_material, list_materials, accept_application],
    guards=SCOPED_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
)
letters_router = Router(path="/v1", route_handlers=[list_letters])
