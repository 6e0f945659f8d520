"""Stage 2: check the raw copy against its versioned Great Expectations contract."""

from pathlib import Path

import dagster as dg

from synth_pipeline.defs.common import for_configured_datasets, markdown_rows, safe_errors, stage_asset
from synth_pipeline.defs.resources import SynthPipelineResource
from synth_pipeline.lib import contracts
from synth_pipeline.lib.config import DatasetConfig, PipelineConfig
from synth_pipeline.lib.errors import ContractViolation
from synth_pipeline.lib.storage import file_digest, read_frame, write_json


def build_validated_asset(dataset: DatasetConfig, base_dir: Path) -> dg.AssetsDefinition:
    @stage_asset(
        dataset,
        "validated",
        upstream="raw",
        group="validation",
        kinds={"great_expectations"},
        description=f"'{dataset.name}' checked against its contract; a failure stops the run before any model sees the data.",
        base_dir=base_dir,
    )
    def validated(context: dg.AssetExecutionContext, synth: SynthPipelineResource) -> dg.MaterializeResult:
        paths = synth.paths(dataset.name)
        contract = contracts.load_contract(dataset.contract_path(base_dir), dataset.name)
        with safe_errors("validation", dataset.name):
            df = read_frame(paths.raw)
            outcome = contracts.validate(df, contract)
        report = outcome.to_dict() | {"raw_digest": file_digest(paths.raw)}
        write_json(paths.validation_report, report)
        failed = len(outcome.failures)
        context.log.info(
            f"Contract v{contract.version}: {len(outcome.outcomes) - failed} of {len(outcome.outcomes)} expectations passed"
        )
        contracts.raise_on_failure(outcome, dataset.name)
        problems = contracts.key_problems(df, dataset.primary_key)
        if problems:
            raise ContractViolation(
                f"dataset {dataset.name!r}: {'; '.join(problems)}. A primary key identifies each row once; fix the "
                "source or declare another key. Nothing downstream ran and the published table is unchanged."
            )
        return dg.MaterializeResult(
            data_version=dg.DataVersion(report["raw_digest"][:24]),
            metadata={
                "contract": str(contract.path.name),
                "contract_version": contract.version,
                "contract_digest": contract.digest,
                "expectations_evaluated": len(outcome.outcomes),
                "expectations_failed": failed,
                "expectations": markdown_rows(
                    [
                        {"expectation": o.expectation, "column": o.column or "-", "success": o.success}
                        for o in outcome.outcomes
                    ]
                ),
            },
        )

    return validated


def stage_defs(config: PipelineConfig) -> dg.Definitions:
    return dg.Definitions(assets=[build_validated_asset(d, config.base_dir) for d in config.datasets.values()])


defs = for_configured_datasets(stage_defs)
