"""One resource tells every stage where files live and which secrets to use."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from synth_pipeline.lib.errors import ConfigError
from synth_pipeline.lib.publishing import DEFAULT_LOCK_TIMEOUT_S, DEFAULT_STORAGE_VERSION
from synth_pipeline.lib.storage import DatasetPaths, dataset_paths


class SynthPipelineResource(dg.ConfigurableResource):
    """Storage locations and secrets; bound to environment variables in ``definitions.py``."""

    private_dir: str = Field(description="Owner-only folder for raw copies, training tables and models.")
    public_database: str = Field(description="The DuckDB file downstream teams read.")
    token_key: str | None = Field(default=None, description="HMAC key for the tokenize policy.")
    encryption_key: str | None = Field(
        default=None, description="AES-256-GCM key (URL-safe base64) for the encrypt policy."
    )
    public_storage_version: str = Field(
        default=DEFAULT_STORAGE_VERSION,
        description="Oldest DuckDB release that must be able to read the public file.",
    )
    publish_lock_timeout_seconds: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_S,
        gt=0,
        description="How long a publish waits for the lock beside the public file before failing the run.",
    )
    ingest_memory_limit: str | None = Field(
        default=None, description="DuckDB memory_limit while ingesting, e.g. '4GB'."
    )

    def paths(self, dataset: str) -> DatasetPaths:
        return dataset_paths(Path(self.private_dir), dataset)

    @property
    def public_path(self) -> Path:
        path = Path(self.public_database)
        if path.stem in ("synthetic", "meta"):
            raise ConfigError(
                f"public database {path}: a file named '{path.stem}' would shadow the '{path.stem}' schema in DuckDB; "
                "choose another file name"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


@dg.definitions
def defs() -> dg.Definitions:
    """The one resource, bound to the environment (``SYNTH_PIPELINE_*``; see settings.py)."""
    from synth_pipeline.settings import default_resource_config

    return dg.Definitions(resources={"synth": SynthPipelineResource(**default_resource_config())})
