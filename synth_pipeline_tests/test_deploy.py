"""The Kubernetes files, linted as far as this machine allows (no cluster, no registry, no helm): hadolint on
the Dockerfile, yamllint on the values, and the values checked against what the code and dagster-k8s expect."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from synth_pipeline import executors, settings
from synth_pipeline.lib.errors import ConfigError
from synth_pipeline.settings import PROJECT_ROOT
from synth_pipeline_tests.conftest import venv_bin

DOCKERFILE = PROJECT_ROOT / "deploy" / "Dockerfile"
VALUES = PROJECT_ROOT / "deploy" / "helm" / "values.yaml"
YAMLLINT = "{extends: default, rules: {line-length: {max: 120}, document-start: disable}}"


def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


def test_the_dockerfile_passes_hadolint():
    done = subprocess.run([venv_bin("hadolint"), str(DOCKERFILE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", [VALUES, PROJECT_ROOT / "dagster.prod.yaml"], ids=lambda p: p.name)
def test_the_deployment_yaml_passes_yamllint(path):
    done = subprocess.run([venv_bin("yamllint"), "-d", YAMLLINT, str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_the_chart_and_the_workspace_serve_the_same_code_location():
    (deployment,) = values()["dagster-user-deployments"]["deployments"]
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]["module_name"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", module]
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.M)
    assert cmd and f'"-m", "{module}"' in cmd.group(1)
    assert f'"-p", "{deployment["port"]}"' in cmd.group(1)


def test_the_chart_sets_only_variables_the_code_reads_and_the_image_agrees():
    (deployment,) = values()["dagster-user-deployments"]["deployments"]
    known = {v for k, v in vars(settings).items() if k.startswith("ENV_")} | {executors.ENV_EXECUTOR}
    assert set(deployment["env"]) <= known
    image_env = dict(re.findall(r"(SYNTH_PIPELINE_\w+)=(\S+)", DOCKERFILE.read_text()))
    for name, value in deployment["env"].items():
        assert image_env.get(name, value) == value, name
    assert deployment["env"][executors.ENV_EXECUTOR] == "k8s"


def test_steps_get_the_same_volume_and_secrets_as_the_code_location():
    (deployment,) = values()["dagster-user-deployments"]["deployments"]
    step = executors.K8S_STEP_CONFIG
    assert step["volumes"] == deployment["volumes"]
    assert step["volume_mounts"] == [
        {"name": m["name"], "mountPath": m["mountPath"]} for m in deployment["volumeMounts"]
    ]
    assert step["env_secrets"] == [s["name"] for s in deployment["envSecrets"]]
    launcher = values()["runLauncher"]["config"]["k8sRunLauncher"]
    assert [s["name"] for s in launcher["envSecrets"]] == step["env_secrets"]


def test_the_step_executor_config_is_valid_for_dagster_k8s(monkeypatch):
    from dagster._config import validate_config
    from dagster_k8s import k8s_job_executor
    from dagster_k8s.launcher import K8sRunLauncher

    result = validate_config(k8s_job_executor.config_schema.config_type, executors.K8S_STEP_CONFIG)
    assert result.success, [e.message for e in result.errors]
    # The chart turns runLauncher.config.k8sRunLauncher (camelCase) into K8sRunLauncher's config (snake_case).
    launcher_fields = set(K8sRunLauncher.config_type())
    snake = {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower() for k in values()["runLauncher"]["config"]["k8sRunLauncher"]}
    assert snake <= launcher_fields, snake - launcher_fields
    monkeypatch.setenv(executors.ENV_EXECUTOR, "k8s")
    assert executors.job_executor().name == "k8s"


def test_the_chart_queues_runs_as_the_production_profile_does():
    prod = yaml.safe_load((PROJECT_ROOT / "dagster.prod.yaml").read_text())
    queued = values()["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["maxConcurrentRuns"] == prod["concurrency"]["runs"]["max_concurrent_runs"]
    assert queued["tagConcurrencyLimits"] == [
        {"key": t["key"], "value": t["value"], "limit": t["limit"]}
        for t in prod["concurrency"]["runs"]["tag_concurrency_limits"]
    ]
    assert values()["concurrency"]["pools"]["defaultLimit"] == prod["concurrency"]["pools"]["default_limit"]
    retries = values()["dagsterDaemon"]["runRetries"]
    assert retries["maxRetries"] == prod["run_retries"]["max_retries"]
    assert retries["retryOnAssetOrOpFailure"] is prod["run_retries"]["retry_on_asset_or_op_failure"] is False


def test_an_unknown_executor_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv(executors.ENV_EXECUTOR, "spark")
    with pytest.raises(ConfigError, match="multiprocess, celery or k8s"):
        executors.job_executor()
    monkeypatch.setenv(executors.ENV_EXECUTOR, "celery")
    monkeypatch.delenv(executors.ENV_CELERY_BROKER, raising=False)
    with pytest.raises(ConfigError, match=executors.ENV_CELERY_BROKER):
        executors.job_executor()
