"""Record the requests huggingface_hub sends for the Jobs API, as golden files for hf-jobs.

Usage (from the repository root, with huggingface_hub 2.4.0 in a venv outside the repo):

    python3 -m venv /root/.cache/ferry/venv
    /root/.cache/ferry/venv/bin/pip install huggingface_hub==2.4.0
    /root/.cache/ferry/venv/bin/python crates/hf-jobs/tests/golden/record.py

It starts a small recording HTTP server on loopback, points `HfApi(endpoint=..., token=...)` at it,
makes one call per named case and writes `<case>.json` next to this script:
`{"method", "path", "query": [[k, v], ...], "body": <JSON or null>}` of the request that the call
sent (the `whoami-v2` lookups are skipped: every call passes `namespace="alice"` except the
`*_whoami` case). It also writes `names.json` with the default job names computed by the library
(`run_job`) rule and the CLI (`hf jobs run` / `hf jobs uv run`) rule.

The Rust integration test `golden_bodies` (tests/it/golden.rs) builds the same calls with
`hf_jobs` against `testkit::FakeHub` and compares the bodies as JSON values.
"""

import json
import os
import re
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import huggingface_hub
from huggingface_hub import HfApi, Volume
from huggingface_hub._jobs_api import _default_job_name_from_image, _default_job_name_from_script
from huggingface_hub.cli.jobs import _name_hash_parts

HERE = Path(__file__).resolve().parent
TOKEN = "hf_golden_token"

JOB = {
    "id": "687f911eaea852de79c4a50a",
    "owner": {"id": "5e9ecfc04957053f60648a3e", "name": "alice", "type": "user"},
    "status": {"stage": "SCHEDULING", "message": None},
}
SCHEDULED = {
    "id": "6abb8dc9c617607c354d45f4",
    "type": "scheduled-job",
    "owner": {"id": "5e9ecfc04957053f60648a3e", "name": "alice", "type": "user"},
    "schedule": "@hourly",
    "suspend": False,
    "concurrency": False,
    "status": {"lastJob": None, "nextJobRunAt": "2026-05-08T09:00:00.000Z"},
    "jobSpec": {"dockerImage": "ubuntu", "command": ["echo"], "environment": {}, "flavor": "cpu-basic"},
}

recorded = []
# Requests hf_xet sent to the fake CAS (method and path only; their bodies are binary).
cas_calls = []


def read_body(handler):
    """The request body, also when hf_xet streams it with chunked transfer encoding."""
    if "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        data = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return data
            data += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("content-length") or 0)
    return handler.rfile.read(length) if length else b""


def decode_body(raw, content_type):
    if not raw:
        return None
    if "ndjson" in (content_type or ""):
        return [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    return json.loads(raw)


class Recorder(BaseHTTPRequestHandler):
    def _send(self, status, answer, extra_headers=()):
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _cas(self, path):
        """A minimal xet CAS: accepts xorbs and shards, knows no chunks (no global dedup)."""
        cas_calls.append([self.command, re.sub(r"[0-9a-f]{64}", "<hash>", path)])
        if path.startswith("/cas/v1/xorbs/"):
            return self._send(200, {"was_inserted": True})
        if path == "/cas/v1/shards":
            return self._send(200, {"result": 0})
        if path == "/cas/v1/telemetry":
            return self._send(200, {})
        return self._send(404, {"error": "not found"})

    def _answer(self):
        raw = read_body(self)
        url = urlsplit(self.path)
        if url.path.startswith("/cas/"):
            return self._cas(url.path)
        if url.path.endswith("/xet-write-token"):
            cas = f"http://127.0.0.1:{self.server.server_port}/cas"
            exp = int(time.time()) + 3600
            return self._send(
                200,
                {"casUrl": cas, "exp": exp, "accessToken": "xet_token"},
                [("X-Xet-Cas-Url", cas), ("X-Xet-Access-Token", "xet_token"), ("X-Xet-Token-Expiration", str(exp))],
            )
        if url.path != "/api/whoami-v2":
            recorded.append(
                {
                    "method": self.command,
                    "path": url.path,
                    "query": parse_qsl(url.query, keep_blank_values=True),
                    "content_type": self.headers.get("content-type"),
                    "body": decode_body(raw, self.headers.get("content-type")),
                }
            )
        if url.path.startswith("/api/buckets/") and url.path.endswith("/batch"):
            answer = {"success": True, "processed": len(recorded[-1]["body"]), "succeeded": len(recorded[-1]["body"]), "failed": []}
        elif url.path.startswith("/api/buckets/"):
            answer = {"url": f"http://127.0.0.1:{self.server.server_port}/buckets/alice/jobs-artifacts", "name": "alice/jobs-artifacts", "id": "6a0000000000000000000001"}
        elif url.path == "/api/whoami-v2":
            answer = {"type": "user", "name": "alice", "orgs": []}
        elif url.path.startswith("/api/scheduled-jobs/") and url.path.endswith("/run"):
            answer = JOB
        elif url.path.startswith("/api/scheduled-jobs/"):
            answer = [] if self.command == "GET" and url.path.count("/") == 3 else SCHEDULED
        elif self.command == "GET" and url.path.count("/") == 3:
            answer = []
        else:
            answer = JOB
        self._send(200, answer)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


FULL = dict(
    env={"MY_VAR": "1", "B_2": "x"},
    secrets={"HF_TOKEN": "hf_secret_value"},
    flavor="a10g-small",
    timeout="1.5h",
    attempts=3,
    labels={"team": "ci", "run": "42"},
    volumes=[
        Volume(type="dataset", source="org/ds", mount_path="/data", read_only=True),
        Volume(type="model", source="org/gpt2", mount_path="/m", revision="main", path="subdir"),
        Volume(type="bucket", source="alice/artifacts", mount_path="/out", read_only=False),
    ],
    expose=[8000, 8001],
    expose_public=[8080],
    resource_group_id="0123456789abcdef01234567",
    name="my-job",
)

HELLO = ["python", "-c", "print('hello')"]


def cases(api):
    ns = {"namespace": "alice"}
    yield "run_minimal", lambda: api.run_job(image="python:3.12", command=HELLO, **ns)
    yield "run_whoami", lambda: api.run_job(image="ubuntu", command=["echo", "hello"])
    yield "run_full", lambda: api.run_job(image="ubuntu", command=["bash", "-c", "echo $MY_VAR"], ssh=True, **FULL, **ns)
    yield "run_space", lambda: api.run_job(
        image="hf.co/spaces/lhoestq/duckdb", command=["duckdb", "-c", "select 1"], timeout=300, **ns
    )
    yield "run_space_https", lambda: api.run_job(
        image="https://huggingface.co/spaces/org/app", command=["run"], timeout="90m", **ns
    )
    yield "run_timeout_1d", lambda: api.run_job(image="ubuntu", command=["sleep", "1"], timeout="1d", **ns)
    yield "run_timeout_text_seconds", lambda: api.run_job(image="ubuntu", command=["true"], timeout="300", **ns)
    yield "run_timeout_3600s", lambda: api.run_job(image="ubuntu", command=["true"], timeout="3600s", **ns)
    yield "run_timeout_zero", lambda: api.run_job(image="ubuntu", command=["true"], timeout=0, **ns)
    yield "run_name_label", lambda: api.run_job(
        image="ubuntu", command=["true"], labels={"name": "from-label", "k": ""}, **ns
    )
    yield "run_network", lambda: api.run_job(
        image="ubuntu",
        command=["true"],
        network_group="grp",
        network_aliases=["db", "cache"],
        expose_public=[9000, 9000],
        **ns,
    )
    yield "run_registry_image", lambda: api.run_job(
        image="ghcr.io/astral-sh/uv:python3.12-bookworm", command=["uv", "--version"], **ns
    )
    yield "scheduled_full", lambda: api.create_scheduled_job(
        image="ubuntu", command=["echo", "tick"], schedule="@hourly", suspend=True, concurrency=False, **FULL, **ns
    )
    yield "scheduled_minimal", lambda: api.create_scheduled_job(
        image="python:3.12", command=HELLO, schedule="*/5 * * * *", **ns
    )
    yield "update_job_labels", lambda: api.update_job_labels(
        job_id="687f911eaea852de79c4a50a", labels={"name": "renamed", "stage": "two"}, **ns
    )
    yield "update_job_expose", lambda: api.update_job_expose(
        job_id="687f911eaea852de79c4a50a", expose=[8000], expose_public=[8080, 8000], **ns
    )
    yield "update_scheduled_job_labels", lambda: api.update_scheduled_job_labels(
        scheduled_job_id="6abb8dc9c617607c354d45f4", labels={"env": "prod"}, **ns
    )
    yield "update_scheduled_job_schedule", lambda: api.update_scheduled_job_schedule(
        scheduled_job_id="6abb8dc9c617607c354d45f4", schedule="@daily", **ns
    )
    yield "list_jobs_filters", lambda: list(
        api.list_jobs(status=["running", "SCHEDULING"], labels={"env": "test", "run": "a=b"}, **ns)
    )
    yield "list_scheduled_jobs_labels", lambda: api.list_scheduled_jobs(labels={"env": "prod", "team": "ci"}, **ns)
    yield "cancel_job", lambda: api.cancel_job(job_id="687f911eaea852de79c4a50a", **ns)
    yield "trigger_scheduled_job", lambda: api.trigger_scheduled_job(scheduled_job_id="6abb8dc9c617607c354d45f4", **ns)
    yield "suspend_scheduled_job", lambda: api.suspend_scheduled_job(scheduled_job_id="6abb8dc9c617607c354d45f4", **ns)
    yield "resume_scheduled_job", lambda: api.resume_scheduled_job(scheduled_job_id="6abb8dc9c617607c354d45f4", **ns)
    yield "delete_scheduled_job", lambda: api.delete_scheduled_job(scheduled_job_id="6abb8dc9c617607c354d45f4", **ns)


def names():
    library_image = [
        ("python:3.12", HELLO),
        ("ubuntu", ["echo", "hello"]),
        ("hf.co/spaces/lhoestq/duckdb", ["duckdb", "-c", "select 1"]),
        ("pytorch/pytorch:2.6.0-cuda12.4-cudnn9-devel", ["python", "train.py"]),
        ("ghcr.io/astral-sh/uv:python3.12-bookworm", []),
    ]
    library_script = [
        ("train.py", []),
        ("train.py", ["--epochs", "3"]),
        ("https://example.co/a/sft.py?raw=1", []),
        ("echo hello", []),
    ]
    cli_image = [
        dict(image="ubuntu", command=["echo", "hello"], parts={}),
        dict(
            image="python:3.12",
            command=HELLO,
            parts=dict(
                flavor="a10g-small",
                timeout="90m",
                namespace="org",
                env={"B": "2", "A": "1"},
                secrets={"TOKEN": None, "HF_TOKEN": None},
                volume_specs=["hf://datasets/org/ds:/data:ro"],
                network_group="grp",
                network_aliases=["db"],
                extra=["3"],
            ),
        ),
    ]
    cli_script = [
        dict(
            script="train.py",
            args=["--epochs", "3"],
            parts=dict(extra=["ghcr.io/astral-sh/uv:python3.12-bookworm", "3.12", "torch"]),
        ),
    ]
    defaults = dict(flavor=None, timeout=None, namespace=None, env={}, secrets={}, volume_specs=[])
    return {
        "library_image": [
            {"image": i, "command": c, "name": _default_job_name_from_image(i, c)} for i, c in library_image
        ],
        "library_script": [
            {"script": s, "args": a, "name": _default_job_name_from_script(s, a)} for s, a in library_script
        ],
        "cli_image": [
            {
                **case,
                "name": _default_job_name_from_image(
                    case["image"], case["command"], config_parts=_name_hash_parts(**{**defaults, **case["parts"]})
                ),
            }
            for case in cli_image
        ],
        "cli_script": [
            {
                **case,
                "name": _default_job_name_from_script(
                    case["script"], case["args"], config_parts=_name_hash_parts(**{**defaults, **case["parts"]})
                ),
            }
            for case in cli_script
        ],
    }


# Files of the `uv run` cases, written to a temporary directory; the Rust test writes the same.
UV_FILES = {
    "train.py": "# /// script\n# dependencies = []\n# ///\nprint('training')\n",
    "config.yaml": "lr: 0.01\nepochs: 3\n",
    "my data.csv": "a,b\n1,2\n",
    "conf/extra.toml": "seed = 7\n",
}


def uv_cases(api, folder):
    ns = {"namespace": "alice"}
    path = lambda name: str(Path(folder) / name)  # noqa: E731
    yield "uv_local", lambda: api.run_uv_job(
        path("train.py"),
        script_args=["--config", path("config.yaml"), "--data", path("my data.csv"), "--epochs", "3", path("conf/extra.toml")],
        dependencies=["torch>=2.1", "numpy"],
        python="3.12",
        env={"MODE": "fast"},
        flavor="a10g-small",
        timeout="90m",
        name="uv-local",
        volumes=[Volume(type="dataset", source="org/ds", mount_path="/inputs")],
        **ns,
    )
    yield "uv_url", lambda: api.run_uv_job(
        "https://example.com/scripts/sft.py",
        script_args=["--epochs", "1"],
        dependencies=["trl"],
        volumes=[Volume(type="bucket", source="alice/out", mount_path="/data")],
        **ns,
    )
    yield "uv_command", lambda: api.run_uv_job("python", script_args=["-c", "print(1)"], python="3.11", **ns)
    yield "uv_scheduled_local", lambda: api.create_scheduled_uv_job(
        path("train.py"),
        script_args=["--epochs", "3"],
        dependencies=["torch"],
        schedule="@daily",
        suspend=False,
        name="uv-nightly",
        **ns,
    )


FOLDER = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")


def normalise(value, folder):
    """Replaces the per-job folder (and the temporary directory) so recordings are stable."""
    if isinstance(value, dict):
        return {k: ("<MTIME>" if k == "mtime" else normalise(v, folder)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, folder) for v in value]
    if isinstance(value, str):
        value = value.replace(folder, "<TMP>")
        head, sep, rest = value.partition("/")
        if FOLDER.match(head):
            return "<FOLDER>" + sep + rest
        if FOLDER.match(value):
            return "<FOLDER>"
    return value


def record_uv(api):
    out = HERE / "uv"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for name, text in UV_FILES.items():
            (Path(folder) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(folder) / name).write_text(text)
        for name, call in uv_cases(api, folder):
            recorded.clear()
            cas_calls.clear()
            call()
            requests = [normalise(r, folder) for r in recorded]
            for r in requests:
                if isinstance(r["body"], list):
                    r["body"].sort(key=lambda line: line.get("path", ""))
            result = {"files": UV_FILES, "requests": requests, "cas_calls": sorted({tuple(c) for c in cas_calls})}
            (out / f"{name}.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")


def main():
    assert huggingface_hub.__version__ == "2.4.0", huggingface_hub.__version__
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = HfApi(endpoint=f"http://127.0.0.1:{server.server_port}", token=TOKEN)
    for name, call in cases(api):
        recorded.clear()
        call()
        if len(recorded) != 1:
            sys.exit(f"{name}: expected one request, got {recorded}")
        request = {k: v for k, v in recorded[0].items() if k != "content_type"}
        (HERE / f"{name}.json").write_text(json.dumps(request, indent=2, sort_keys=True) + "\n")
    (HERE / "names.json").write_text(json.dumps(names(), indent=2) + "\n")
    os.environ["HF_XET_TELEMETRY_ENABLED"] = "false"
    record_uv(api)
    server.shutdown()
    print(f"recorded with huggingface_hub {huggingface_hub.__version__} into {HERE}")


if __name__ == "__main__":
    main()
