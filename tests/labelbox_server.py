"""A small local Labelbox: the part of its GraphQL API the official SDK uses for the
hand-off, served on 127.0.0.1 by a thread, for tests.

    server = LabelboxServer()          # started; the ``labelbox_server`` fixture stops it
    client = server.client()           # labelbox.Client(endpoint=<this server>, ...)
    run = client.get_model_run(server.add_model_run())
    run.add_predictions("job", predictions="shard.ndjson")
    server.uploads                     # what the SDK sent: names, file bytes, lengths

It answers, by GraphQL operation name (it is a stand-in for the API, not a GraphQL
engine): ``modelRun`` and ``project`` by id; the multipart file upload mutations of
model-run predictions (``createModelErrorAnalysisPredictionImport``), model-assisted
labelling (``createModelAssistedLabelingPredictionImport``) and label import
(``createLabelImport``); and the status queries of those imports. Each import reports
``RUNNING`` for ``running_polls`` status reads, then ends as scripted
(:meth:`end_import`: ``FINISHED`` by default; ``FAILED``; per-line errors, served as
NDJSON at its ``errorFileUrl``). :meth:`fail` scripts an HTTP status or a slow reply
for an operation.

What the SDK expects of a record (every field of its type, enums by value) is taken
from the SDK's own field lists (``labelbox.orm``), so the records stay in step with it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

import labelbox
from labelbox.orm.model import Entity, Field

API_KEY = "local-test-key"
_DATE = "2024-01-01T00:00:00.000Z"


@dataclass
class Request:
    """One request the server received."""

    method: str
    path: str
    operation: Optional[str]
    variables: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Upload:
    """One import file the SDK uploaded (a multipart request)."""

    operation: str
    name: str
    parent_id: str  # the model run's or the project's id
    file_name: str
    data: bytes
    content_length: int  # the length the SDK declared


@dataclass
class Failure:
    """A scripted reply to an operation (for the import named ``name`` only, when
    given): an HTTP status, after ``delay`` seconds."""

    status: int = 200
    delay: float = 0.0
    name: Optional[str] = None


@dataclass
class ImportJob:
    name: str
    kind: str  # the GraphQL type: which parent and which record fields
    parent_id: str
    uid: str
    running_polls: int
    state: str = "FINISHED"
    line_errors: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0


# Each import mutation: (kind, the parent's variable, the entity the SDK builds).
_IMPORTS = {
    "createModelErrorAnalysisPredictionImport": ("mea", "modelRunId", labelbox.MEAPredictionImport),
    "createModelAssistedLabelingPredictionImport": (
        "mal",
        "projectId",
        labelbox.MALPredictionImport,
    ),
    "createLabelImport": ("label", "projectId", labelbox.LabelImport),
}
# Each status query: (kind, the parent's variable).
_STATUS = {
    "modelErrorAnalysisPredictionImport": ("mea", "modelRunId"),
    "modelAssistedLabelingPredictionImport": ("mal", "projectId"),
    "labelImport": ("label", "projectId"),
}


def record(entity: Any, **values: Any) -> dict[str, Any]:
    """A record of ``entity`` as the API returns it: every field the SDK reads, with
    ``values`` (by GraphQL name) and plausible defaults; cached relations left out."""
    out: dict[str, Any] = {}
    for f in entity.fields():
        kind = f.field_type
        if isinstance(kind, Field.EnumType):
            value: Any = next(iter(kind.enum_cls)).value
        elif kind == Field.Type.DateTime:
            value = _DATE
        elif kind in (Field.Type.Int, Field.Type.Float):
            value = 0
        elif kind == Field.Type.Boolean:
            value = False
        elif kind == Field.Type.Json:
            value = {}
        else:
            value = f"{f.graphql_name}-0"
        out[f.graphql_name] = value
    out.update(values)
    return out


class LabelboxServer:
    """The local server; see the module's docstring."""

    def __init__(self, running_polls: int = 1) -> None:
        self.running_polls = running_polls
        self.requests: list[Request] = []
        self.uploads: list[Upload] = []
        self.model_runs: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, dict[str, Any]] = {}
        self.imports: dict[tuple[str, str, str], ImportJob] = {}
        self._failures: dict[str, Failure] = {}
        self._endings: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # --- the test's side ----------------------------------------------------------

    def client(self) -> Any:
        """An unmodified ``labelbox.Client`` that reaches this server only."""
        return labelbox.Client(
            api_key=API_KEY,
            endpoint=f"{self.url}/graphql",
            rest_endpoint=f"{self.url}/api/v1",
            app_url=self.url,
        )

    def add_model_run(self, uid: str = "cmodelrun0000000000000001") -> str:
        self.model_runs[uid] = record(Entity.ModelRun, id=uid, name="iteration 1")
        return uid

    def add_project(self, uid: str = "cproject00000000000000001") -> str:
        self.projects[uid] = record(Entity.Project, id=uid, name="Image Prediction Demo")
        return uid

    def fail(
        self, operation: str, *, status: int = 500, delay: float = 0.0, name: Optional[str] = None
    ) -> None:
        """Answers ``operation`` (a GraphQL field, such as
        ``createModelErrorAnalysisPredictionImport``), for the import named ``name`` or
        any, with ``status`` after ``delay`` seconds, every time."""
        self._failures[operation] = Failure(status, delay, name)

    def end_import(
        self, name: str, state: str = "FINISHED", line_errors: Optional[list[dict[str, Any]]] = None
    ) -> None:
        """How the import named ``name`` ends once it stops running."""
        self._endings[name] = (state, list(line_errors or []))

    def operations(self) -> list[Optional[str]]:
        return [r.operation for r in self.requests]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # --- answering ----------------------------------------------------------------

    def _answer(self, request: Request, files: dict[str, tuple[str, bytes]]) -> tuple[int, Any]:
        with self._lock:
            self.requests.append(request)
            failure = self._failures.get(request.operation or "")
            if failure is not None and failure.name not in (None, request.variables.get("name")):
                failure = None
        if failure is not None:
            time.sleep(failure.delay)
            if failure.status != 200:
                return failure.status, {"message": f"scripted HTTP {failure.status}"}
        with self._lock:
            return 200, self._graphql(request, files)

    def _graphql(self, request: Request, files: dict[str, tuple[str, bytes]]) -> Any:
        op, v = request.operation, request.variables
        if op == "modelRun":
            return {"data": {"modelRun": self.model_runs.get(v.get("param_0"))}}
        if op == "project":
            return {"data": {"project": self.projects.get(v.get("param_0"))}}
        if op in _IMPORTS:
            return {"data": {op: self._create_import(op, v, files)}}
        if op in _STATUS:
            kind, parent = _STATUS[op]
            job = self.imports.get((kind, v[parent], v["name"]))
            if job is None:
                return _error("RESOURCE_NOT_FOUND", f"no import named {v['name']!r}")
            job.polls += 1
            return {"data": {op: self._import_record(job)}}
        return _error("GRAPHQL_VALIDATION_FAILED", f"the local server does not know {op!r}")

    def _create_import(
        self, op: str, v: dict[str, Any], files: dict[str, tuple[str, bytes]]
    ) -> dict[str, Any]:
        kind, parent, _ = _IMPORTS[op]
        (file_name, data), *_ = files.values()
        self.uploads.append(Upload(op, v["name"], v[parent], file_name, data, v["contentLength"]))
        state, errors = self._endings.get(v["name"], ("FINISHED", []))
        job = ImportJob(
            name=v["name"],
            kind=kind,
            parent_id=v[parent],
            uid=f"cimport{len(self.imports):018d}",
            running_polls=self.running_polls,
            state=state,
            line_errors=errors,
        )
        self.imports[(kind, job.parent_id, job.name)] = job
        return self._import_record(job)

    def _import_record(self, job: ImportJob) -> dict[str, Any]:
        running = job.polls < job.running_polls
        files = f"{self.url}/files/{job.uid}"
        values: dict[str, Any] = {
            "id": job.uid,
            "name": job.name,
            "state": "RUNNING" if running else job.state,
            "progress": "0%" if running else "100%",
            "inputFileUrl": f"{files}/input.ndjson",
            "errorFileUrl": None if running else f"{files}/errors.ndjson",
            "statusFileUrl": None if running else f"{files}/statuses.ndjson",
        }
        entity = next(e for k, _, e in _IMPORTS.values() if k == job.kind)
        if job.kind == "mea":
            values["modelRunId"] = job.parent_id
        else:
            values["project"] = self.projects[job.parent_id]
        return record(entity, **values)

    def _file(self, path: str) -> Optional[bytes]:
        """An import's input, error or status file, as NDJSON."""
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "files":
            return None
        with self._lock:
            job = next((j for j in self.imports.values() if j.uid == parts[1]), None)
            if job is None:
                return None
            upload = next(u for u in self.uploads if u.name == job.name)
            if parts[2] == "input.ndjson":
                return upload.data
            failed = {e.get("uuid") for e in job.line_errors}
            if parts[2] == "errors.ndjson":
                rows = job.line_errors
            elif parts[2] == "statuses.ndjson":
                rows = [
                    {"uuid": line.get("uuid"), "dataRow": line.get("dataRow"), "status": "SUCCESS"}
                    for line in map(json.loads, upload.data.splitlines())
                    if line.get("uuid") not in failed
                ] + [{**e, "status": "FAILURE"} for e in job.line_errors]
            else:
                return None
        return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


def _operation(query: str) -> Optional[str]:
    """The first field of the query's selection: what it asks for (``modelRun``)."""
    body = query[query.find("{") + 1 :]
    name = body.strip().split("(")[0].split("{")[0].strip()
    return name or None


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[Optional[str], bytes]]:
    """The parts of a multipart/form-data body: name -> (file name, bytes)."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return parts


def _handler(server: LabelboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test reads server.requests

        def do_GET(self) -> None:
            server.requests.append(Request("GET", self.path, None, {}, dict(self.headers)))
            data = server._file(self.path)
            self._reply(200, data) if data is not None else self._reply(404, b"not found")

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            content_type = self.headers.get("Content-Type", "")
            files: dict[str, tuple[str, bytes]] = {}
            if content_type.startswith("multipart/form-data"):
                parts = _multipart(content_type, body)
                payload = json.loads(parts.pop("operations")[1])
                parts.pop("map", None)
                files = {k: (f or k, data) for k, (f, data) in parts.items()}
            else:
                payload = json.loads(body)
            request = Request(
                "POST",
                self.path,
                _operation(payload.get("query") or ""),
                payload.get("variables") or {},
                dict(self.headers),
            )
            status, answer = server._answer(request, files)
            self._reply(status, json.dumps(answer).encode())

        def _reply(self, status: int, data: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a scripted slow reply)

    return Handler
