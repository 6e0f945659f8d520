"""MOSTLY AI's TabularARGN (``mostlyai-engine``), with SDV's fit/sample interface and optional DP.

TabularARGN is an autoregressive network over columns. With ``epsilon`` set it
trains with DP-SGD (Opacus, RDP accountant) and finds value ranges and category
lists with DP histograms, so the model is (epsilon, delta)-differentially
private; ``privacy_spent`` reports the budget the run used, which can be less
than ``epsilon`` when training stops on time or convergence first.

DP value ranges are noisy and can reach past the real minimum or maximum, which
the gate's Data Validity check (100 % required) rejects. ``clip_to_observed_range``
clips numbers and dates into the observed range instead: the table can then pass
the gate, but each column's real minimum and maximum are revealed outside the
epsilon guarantee (SmartNoise makes the same trade when bounds are inferred).
It is off by default, and ``privacy_spent`` says when it was used.

The engine copies its training rows into a workspace folder. Here that folder
is a temporary directory (mode 0700; the pipeline points ``tempfile`` inside its
private area while training and sampling) that is deleted as soon as training ends; only the model (weights, configs and the engine's statistics,
which hold category values and ranges: as sensitive as SDV metadata) is kept,
inside this object, and unpacked to another private temporary directory while
sampling.
"""

from __future__ import annotations

import io
import logging
import shutil
import tarfile
import tempfile
import weakref
from pathlib import Path
from typing import Any

import pandas as pd

from synth_pipeline.lib.synthesizers.base import PickledSynthesizer

TABLE = "table"
# What generate() needs; the rest of the workspace (training rows, encoded rows, optimizer state) is dropped.
KEEP = ("ModelStore/model-data/model-weights.pt", "ModelStore/model-data/model-configs.json", "ModelStore/tgt-stats")
KEEP_DIRS = ("OriginalData/tgt-meta",)
ENCODING = {
    "categorical": "TABULAR_CATEGORICAL",
    "boolean": "TABULAR_CATEGORICAL",
    "numerical": "TABULAR_NUMERIC_AUTO",
    "datetime": "TABULAR_DATETIME",
}


def _engine() -> Any:
    try:
        import mostlyai.engine as engine
    except ImportError as err:  # pragma: no cover - only without the optional engine
        raise ImportError(
            "synthesizer 'tabular_argn' needs mostlyai-engine, which `make setup` installs "
            "(pip install --no-deps mostlyai-engine==2.7.3 beside the '[argn]' extra)"
        ) from err
    # The engine logs at INFO to stdout (the run's compute log); its messages can name values, so keep it quiet.
    logging.getLogger("mostlyai.engine").setLevel(logging.WARNING)
    return engine


class TabularARGNSynthesizer(PickledSynthesizer):
    """Fit/sample like an SDV single-table synthesizer: ``fit({name: df})``, ``sample(n) -> {name: df}``."""

    def __init__(
        self,
        metadata: Any,
        epsilon: float | None = None,
        delta: float = 1e-5,
        noise_multiplier: float = 1.5,
        max_grad_norm: float = 1.0,
        value_protection_epsilon: float = 1.0,
        max_training_minutes: float = 10.0,
        max_epochs: float = 100.0,
        batch_size: int | None = None,
        value_protection: bool = True,
        clip_to_observed_range: bool = False,
        seed: int = 0,
    ):
        self.metadata = metadata
        self.epsilon = epsilon
        self.delta = delta
        self.noise_multiplier = noise_multiplier
        self.max_grad_norm = max_grad_norm
        self.value_protection_epsilon = value_protection_epsilon
        self.max_training_minutes = max_training_minutes
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.value_protection = value_protection
        self.clip_to_observed_range = clip_to_observed_range
        self.seed = seed
        self._ranges: dict[str, tuple[Any, Any]] = {}
        self.privacy_spent: dict[str, float] | None = None
        self._model: bytes = b""
        self._dtypes: dict[str, Any] = {}
        self._losses: pd.DataFrame | None = None
        self._workspace: Path | None = None

    # -- fitting --------------------------------------------------------------------------------
    def _encoding_types(self, data: pd.DataFrame) -> dict[str, str]:
        meta = self.metadata.to_dict() if hasattr(self.metadata, "to_dict") else self.metadata
        columns = meta.get("tables", {}).get(TABLE, {}).get("columns", {})
        return {c: ENCODING.get(columns.get(c, {}).get("sdtype", "categorical"), "AUTO") for c in data.columns}

    def _dp_config(self) -> Any:
        if self.epsilon is None:
            return None
        from mostlyai.engine.domain import DifferentialPrivacyConfig

        return DifferentialPrivacyConfig(
            max_epsilon=self.epsilon,
            delta=self.delta,
            noise_multiplier=self.noise_multiplier,
            max_grad_norm=self.max_grad_norm,
            value_protection_epsilon=self.value_protection_epsilon,
        )

    def fit(self, data: dict[str, pd.DataFrame] | pd.DataFrame) -> None:
        engine = _engine()
        frame = data[TABLE] if isinstance(data, dict) else data
        self._dtypes = {str(c): t for c, t in frame.dtypes.items()}
        frame = frame.rename(columns=str).reset_index(drop=True)
        if self.clip_to_observed_range:
            self._ranges = {
                c: (frame[c].min(), frame[c].max())
                for c in frame.columns
                if frame[c].notna().any()
                and (pd.api.types.is_numeric_dtype(frame[c].dtype) or pd.api.types.is_datetime64_any_dtype(frame[c]))
                and not pd.api.types.is_bool_dtype(frame[c].dtype)
            }
        engine.set_random_state(self.seed)
        dp = self._dp_config()
        with tempfile.TemporaryDirectory(prefix="synth-pipeline-argn-") as ws:
            engine.split(
                tgt_data=frame,
                model_type="TABULAR",
                tgt_encoding_types=self._encoding_types(frame),
                workspace_dir=ws,
            )
            engine.analyze(value_protection=self.value_protection, differential_privacy=dp, workspace_dir=ws)
            engine.encode(workspace_dir=ws)
            engine.train(
                max_training_time=self.max_training_minutes,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                differential_privacy=dp,
                workspace_dir=ws,
            )
            self._read_progress(Path(ws) / "ModelStore" / "model-data" / "progress-messages.csv")
            self._model = _pack(Path(ws))
        self._drop_workspace()

    def _read_progress(self, path: Path) -> None:
        progress = pd.read_csv(path) if path.exists() else pd.DataFrame()
        if {"epoch", "trn_loss", "val_loss"} <= set(progress.columns):
            self._losses = progress[["epoch", "trn_loss", "val_loss"]].rename(
                columns={"epoch": "Epoch", "trn_loss": "training loss", "val_loss": "validation loss"}
            )
        if self.epsilon is not None:
            # The engine keeps only checkpoints within the budget; the largest epsilon reported within it bounds
            # the kept checkpoint's (a last step past the budget ends training and is not kept).
            reported = pd.to_numeric(progress.get("dp_eps", pd.Series(dtype=float)), errors="coerce")
            eps = reported[reported <= self.epsilon].max()
            self.privacy_spent = {
                "epsilon": float(eps),  # NaN when no step stayed within the budget
                "delta": float(self.delta),
                "epsilon_budget": float(self.epsilon),
                "observed_ranges_revealed": bool(self._ranges),
            }

    # -- sampling -------------------------------------------------------------------------------
    def _unpacked(self) -> Path:
        if self._workspace is None:
            ws = Path(tempfile.mkdtemp(prefix="synth-pipeline-argn-model-"))
            with tarfile.open(fileobj=io.BytesIO(self._model), mode="r") as tar:
                tar.extractall(ws, filter="data")
            self._workspace = ws
            self._finalizer = weakref.finalize(self, shutil.rmtree, ws, True)
        return self._workspace

    def _drop_workspace(self) -> None:
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()
        self._workspace = None

    def reset_sampling(self, seed: int | None = None) -> None:
        _engine().set_random_state(self.seed if seed is None else seed)

    def sample(self, num_rows: int, **_: Any) -> dict[str, pd.DataFrame]:
        if not self._model:
            raise ValueError("fit the synthesizer before sampling")
        engine = _engine()
        from mostlyai.engine._common import load_generated_data

        ws = self._unpacked()
        try:
            engine.generate(
                sample_size=num_rows,
                rare_category_replacement_method="SAMPLE",  # a `_RARE_` token would be an invalid category
                device="cpu",
                workspace_dir=ws,
            )
            out = load_generated_data(ws)
        finally:
            shutil.rmtree(ws / "SyntheticData", ignore_errors=True)
        out = self._restore_dtypes(out)
        for col, (low, high) in self._ranges.items():
            out[col] = out[col].clip(low, high)
        return {TABLE: out}

    def _restore_dtypes(self, out: pd.DataFrame) -> pd.DataFrame:
        out = out.reindex(columns=list(self._dtypes))
        for col, dtype in self._dtypes.items():
            s = out[col]
            try:
                if pd.api.types.is_bool_dtype(dtype):
                    flags = s.map(lambda v: v if pd.isna(v) else str(v).lower() in {"true", "1"})
                    out[col] = flags.astype(bool) if flags.notna().all() else flags.astype("boolean")
                elif pd.api.types.is_integer_dtype(dtype):
                    values = pd.to_numeric(s, errors="coerce").round()
                    out[col] = values.astype(dtype) if values.notna().all() else values.astype("Int64")
                elif pd.api.types.is_float_dtype(dtype):
                    out[col] = pd.to_numeric(s, errors="coerce").astype(dtype)
                elif pd.api.types.is_datetime64_any_dtype(dtype):
                    out[col] = pd.to_datetime(s, errors="coerce").astype(dtype)
                else:
                    out[col] = s.map(lambda v: v if pd.isna(v) else str(v)).astype(object)
            except (TypeError, ValueError):
                out[col] = s
        return out

    # -- persistence ----------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_workspace"] = None
        state.pop("_finalizer", None)
        return state

    def get_loss_values(self) -> pd.DataFrame | None:
        return self._losses


def _pack(workspace: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel in (*KEEP, *KEEP_DIRS):
            path = workspace / rel
            if path.exists():
                tar.add(path, arcname=rel)
    return buf.getvalue()
