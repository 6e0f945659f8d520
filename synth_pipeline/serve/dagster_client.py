"""The page starts and follows runs through Dagster's own GraphQL API, so they sit in the UI, the run queue and
the run history like any other run."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from synth_pipeline.lib.errors import SynthPipelineError

LOCATION = "synth_pipeline"
REPOSITORY = "__repository__"
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}

RELOAD = """
mutation Reload($location: String!) {
  reloadRepositoryLocation(repositoryLocationName: $location) {
    __typename
    ... on WorkspaceLocationEntry { locationOrLoadError { __typename ... on PythonError { message } } }
    ... on PythonError { message }
  }
}
"""

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PipelineNotFoundError { message }
    ... on RunConflict { message }
    ... on UnauthorizedError { message }
  }
}
"""

STATUS = """
query Status($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status stepStats { stepKey status } }
  }
}
"""


class DagsterUnavailable(SynthPipelineError):
    """The Dagster webserver could not be reached or refused the request."""


@dataclass
class RunProgress:
    status: str
    steps: list[tuple[str, str]] = field(default_factory=list)  # (step key, status) in execution order

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


def _call(url: str, query: str, variables: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        raise DagsterUnavailable(
            f"the Dagster webserver at {url} did not answer; start it with `make dev` "
            "(or set SYNTH_PIPELINE_DAGSTER_URL)"
        ) from None
    if body.get("errors"):
        raise DagsterUnavailable(
            "Dagster refused the request: " + "; ".join(e.get("message", "") for e in body["errors"])
        )
    return body["data"]


def reload_location(url: str, location: str = LOCATION) -> None:
    """Reload the code location so that a new upload's assets and job exist."""
    data = _call(url, RELOAD, {"location": location}, timeout=300)["reloadRepositoryLocation"]
    entry = data.get("locationOrLoadError") or {}
    if data["__typename"] != "WorkspaceLocationEntry" or entry.get("__typename") == "PythonError":
        raise DagsterUnavailable(f"reloading the code location {location!r} failed; the Dagster UI shows why")


def launch(url: str, job: str, tags: dict[str, str], location: str = LOCATION) -> str:
    params = {
        "selector": {"repositoryLocationName": location, "repositoryName": REPOSITORY, "jobName": job},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
    }
    result = _call(url, LAUNCH, {"params": params})["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        why = result.get("message") or "; ".join(e["message"] for e in result.get("errors", []))
        raise DagsterUnavailable(f"Dagster did not launch the run ({result['__typename']}): {why}")
    return str(result["run"]["runId"])


def progress(url: str, run_id: str) -> RunProgress:
    run = _call(url, STATUS, {"runId": run_id})["runOrError"]
    if run["__typename"] != "Run":
        return RunProgress("NOT_FOUND")
    return RunProgress(run["status"], [(s["stepKey"], s["status"] or "") for s in run.get("stepStats") or []])
