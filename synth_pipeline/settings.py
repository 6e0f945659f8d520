"""The one place that reads environment variables, with local defaults for a fresh clone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = PROJECT_ROOT / ".state"

ENV_DATASETS = "SYNTH_PIPELINE_DATASETS"
ENV_PRIVATE_DIR = "SYNTH_PIPELINE_PRIVATE_DIR"
ENV_PUBLIC_DATABASE = "SYNTH_PIPELINE_PUBLIC_DATABASE"
ENV_TOKEN_KEY = "SYNTH_PIPELINE_TOKEN_KEY"
ENV_ENCRYPTION_KEY = "SYNTH_PIPELINE_ENCRYPTION_KEY"
ENV_INGEST_MEMORY = "SYNTH_PIPELINE_INGEST_MEMORY_LIMIT"
ENV_STORAGE_VERSION = "SYNTH_PIPELINE_PUBLIC_STORAGE_VERSION"

DEFAULTS = {
    ENV_DATASETS: str(PROJECT_ROOT / "datasets.yaml"),
    ENV_PRIVATE_DIR: str(STATE_DIR / "private"),
    ENV_PUBLIC_DATABASE: str(STATE_DIR / "public" / "synthetic_data.duckdb"),
}


def env_or_default(name: str) -> str | dg.EnvVar | None:
    """An ``EnvVar`` when the variable is set (so the UI shows where a value came from), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else DEFAULTS.get(name)


@dataclass(frozen=True)
class Settings:
    datasets_file: Path

    public_database: Path

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            datasets_file=Path(os.environ.get(ENV_DATASETS) or DEFAULTS[ENV_DATASETS]),
            public_database=Path(os.environ.get(ENV_PUBLIC_DATABASE) or DEFAULTS[ENV_PUBLIC_DATABASE]),
        )


def default_resource_config() -> dict:
    """Resource fields bound to their environment variables; unset ones keep the resource's defaults."""
    fields = {
        "private_dir": ENV_PRIVATE_DIR,
        "public_database": ENV_PUBLIC_DATABASE,
        "token_key": ENV_TOKEN_KEY,
        "encryption_key": ENV_ENCRYPTION_KEY,
        "ingest_memory_limit": ENV_INGEST_MEMORY,
        "public_storage_version": ENV_STORAGE_VERSION,
    }
    config = {name: env_or_default(env) for name, env in fields.items()}
    return {name: value for name, value in config.items() if value is not None}
