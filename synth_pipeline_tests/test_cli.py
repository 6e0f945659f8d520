"""The ``synth-pipeline`` command."""

import json

from synth_pipeline import cli
from synth_pipeline_tests.conftest import Project


def test_contract_init_writes_a_contract_and_refuses_to_overwrite(project: Project, capsys):
    target = project.root / "contracts" / "customers.json"
    target.unlink()
    assert cli.main(["--datasets", str(project.write()), "contract", "init", "customers"]) == 0
    contract = json.loads(target.read_text())
    assert contract["contract_version"] == 1 and contract["dataset"] == "customers"
    assert cli.main(["--datasets", str(project.datasets_file), "contract", "init", "customers"]) == 1


def test_unknown_dataset_is_a_clean_error(project: Project, capsys):
    assert cli.main(["--datasets", str(project.write()), "contract", "init", "nope"]) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
