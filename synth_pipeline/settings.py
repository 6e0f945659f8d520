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
# The sandbox API and upload page (`synth-pipeline serve`)
ENV_API_KEYS = "SYNTH_PIPELINE_API_KEYS"
ENV_API_MAX_PAGE = "SYNTH_PIPELINE_API_MAX_PAGE"
ENV_SANDBOX_DATABASE = "SYNTH_PIPELINE_SANDBOX_DATABASE"
ENV_ADMIN_TOKEN = "SYNTH_PIPELINE_ADMIN_TOKEN"
ENV_DAGSTER_URL = "SYNTH_PIPELINE_DAGSTER_URL"
ENV_UPLOAD_MAX_MB = "SYNTH_PIPELINE_UPLOAD_MAX_MB"
ENV_INBOX_DIR = "SYNTH_PIPELINE_INBOX_DIR"
ENV_INBOX_INTERVAL = "SYNTH_PIPELINE_INBOX_INTERVAL_SECONDS"

DEFAULTS = {
    ENV_DATASETS: str(PROJECT_ROOT / "datasets.yaml"),
    ENV_PRIVATE_DIR: str(STATE_DIR / "private"),
    ENV_PUBLIC_DATABASE: str(STATE_DIR / "public" / "synthetic_data.duckdb"),
    ENV_SANDBOX_DATABASE: str(STATE_DIR / "sandbox" / "sandbox.duckdb"),
    ENV_DAGSTER_URL: "http://127.0.0.1:3000",
}


def _env(name: str) -> str | None:
    return os.environ.get(name) or DEFAULTS.get(name)


def env_or_default(name: str) -> str | dg.EnvVar | None:
    """An ``EnvVar`` when the variable is set (so the UI shows where a value came from), else the default."""
    return dg.EnvVar(name) if os.environ.get(name) else DEFAULTS.get(name)


@dataclass(frozen=True)
class Settings:
    datasets_file: Path

    public_database: Path

    private_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            datasets_file=Path(os.environ.get(ENV_DATASETS) or DEFAULTS[ENV_DATASETS]),
            public_database=Path(os.environ.get(ENV_PUBLIC_DATABASE) or DEFAULTS[ENV_PUBLIC_DATABASE]),
            private_dir=Path(os.environ.get(ENV_PRIVATE_DIR) or DEFAULTS[ENV_PRIVATE_DIR]),
        )

    @property
    def uploads_dir(self) -> Path:
        """Files uploaded through the page, each with its dataset entry and contract: inside the private area."""
        return uploads_dir(self.private_dir)

    @staticmethod
    def inbox_interval_seconds() -> int:
        return int(os.environ.get(ENV_INBOX_INTERVAL) or 30)

    @property
    def inbox_dir(self) -> Path:
        """Where the file-drop sensor looks for new tables (default: inside the private area)."""
        return Path(os.environ.get(ENV_INBOX_DIR) or self.private_dir / "inbox")


@dataclass(frozen=True)
class ServeSettings:
    """What `synth-pipeline serve` reads: the public file, its own sandbox file, and optional credentials."""

    public_database: Path
    sandbox_database: Path
    private_dir: Path
    datasets_file: Path
    api_keys: tuple[str, ...] = ()
    max_page_size: int = 1000
    admin_token: str | None = None
    dagster_url: str = "http://127.0.0.1:3000"
    upload_max_bytes: int = 200 * 2**20

    @property
    def uploads_dir(self) -> Path:
        return uploads_dir(self.private_dir)

    @classmethod
    def from_env(cls) -> ServeSettings:
        base = Settings.from_env()
        keys = tuple(k.strip() for k in (os.environ.get(ENV_API_KEYS) or "").split(",") if k.strip())
        return cls(
            public_database=base.public_database,
            sandbox_database=Path(_env(ENV_SANDBOX_DATABASE) or ""),
            private_dir=base.private_dir,
            datasets_file=base.datasets_file,
            api_keys=keys,
            max_page_size=int(os.environ.get(ENV_API_MAX_PAGE) or 1000),
            admin_token=os.environ.get(ENV_ADMIN_TOKEN) or None,
            dagster_url=(_env(ENV_DAGSTER_URL) or "").rstrip("/"),
            upload_max_bytes=int(float(os.environ.get(ENV_UPLOAD_MAX_MB) or 200) * 2**20),
        )


def uploads_dir(private_dir: Path) -> Path:
    return private_dir / "uploads"


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
