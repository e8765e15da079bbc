"""`plugdata train` at the command line: help, flags, and a clear line without the train extra."""

import sys
from pathlib import Path

import pytest

from plugdata.errors import PlugdataError
from plugdata.train import TrainArgs, parse, require_train_extra

from .conftest import run_cli

REQUIRED = ["--data", "d", "--model", "m", "--out", "o"]


def test_help_names_the_command_and_describes_every_flag():
    result = run_cli("train", "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("usage: plugdata train ")
    assert "PyTorch was not found" not in result.stdout + result.stderr
    options = text.split("options:")[1].split("Underscore spellings")[0]
    assert "--max-steps" in text and "--no-compile" in options
    assert "_" not in "".join(
        w for w in text.split() if w.startswith(("--", "[--")) and "(" not in w
    )
    for name in TrainArgs.__dataclass_fields__:
        flag = "--" + name.replace("_", "-")
        assert flag in options, flag
        # each flag line carries help text: the text after the flag (same or next line)
        after = options.split(flag, 1)[1].split("\n  --", 1)[0]
        assert len(after.replace(name.upper(), "").split()) >= 2, f"{flag} has no help"


def test_dashes_and_underscores_both_parse():
    dashed = parse([*REQUIRED, "--max-steps", "7", "--batch-size=3", "--no-packing"])
    under = parse([*REQUIRED, "--max_steps", "7", "--batch_size=3", "--no_packing"])
    assert dashed == under
    assert (dashed.max_steps, dashed.batch_size, dashed.packing) == (7, 3, False)
    assert parse(REQUIRED).compile is None and parse([*REQUIRED, "--compile"]).compile is True


def test_usage_errors_are_one_plugdata_error():
    with pytest.raises(PlugdataError, match="--max-steps: invalid int value"):
        parse([*REQUIRED, "--max-steps", "many"])
    with pytest.raises(PlugdataError, match="unrecognized arguments: --bogus"):
        parse([*REQUIRED, "--bogus"])
    with pytest.raises(PlugdataError, match="nothing to train"):
        parse([*REQUIRED, "--max-steps", "0"])


def test_missing_extra_is_named_in_process(monkeypatch):
    monkeypatch.setitem(sys.modules, "trl", None)  # what `import trl` meets when it is absent
    with pytest.raises(PlugdataError, match=r"trl missing\): pip install 'plugdata\[train\]'"):
        require_train_extra()


def test_train_without_the_extra_prints_one_line(tmp_path: Path):
    # A `torch` that cannot be imported, first on the path: a fresh CLI process sees no torch.
    fake = tmp_path / "site" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n"
    )
    result = run_cli(
        "train",
        *REQUIRED,
        "--langs",
        "zh",
        "--max-steps",
        "1",
        env={"PYTHONPATH": str(tmp_path / "site")},
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'plugdata[train]'" in lines[0], result.stderr
    assert "torch" in lines[0]
