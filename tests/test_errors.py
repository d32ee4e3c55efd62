from __future__ import annotations

import inspect
import pickle
import re

import pytest

import themekit
from themekit import errors
from themekit.cli.app import as_flags
from themekit.pipeline.engine import make_engine

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def _classes() -> list[type[errors.ThemekitError]]:
    return [
        value
        for _, value in inspect.getmembers(errors, inspect.isclass)
        if issubclass(value, errors.ThemekitError) and value.__module__ == errors.__name__
    ]


def test_errors_every_class_has_a_unique_code_in_the_docs_table():
    from .test_docs import rendered_page

    classes = _classes()
    assert len(classes) >= 20
    codes = [cls.__dict__.get("code") for cls in classes]
    assert all(isinstance(code, str) and re.fullmatch(r"E\d{3}", code) for code in codes), codes
    assert len(set(codes)) == len(codes), sorted(codes)
    table = rendered_page("reference/errors.md").split("## Error codes", 1)[1]
    rows = dict(re.findall(r"^\| (E\d{3}) \| `(\w+)` \|", table, flags=re.MULTILINE))
    assert rows == {cls.code: cls.__name__ for cls in classes}


def test_errors_every_class_is_public():
    names = {cls.__name__ for cls in _classes()}
    assert names <= set(errors.__all__)
    assert names <= set(themekit.__all__)
    assert themekit.OptionError is errors.OptionError
    from themekit.refi import RefiError

    assert RefiError is errors.RefiError


def test_errors_str_is_the_message_and_coded_adds_the_code():
    error = errors.OptionError(
        "unknown coding unit 'word' (unit=); choose from: sentence, turn, paragraph", param="unit"
    )
    assert str(error) == "unknown coding unit 'word' (unit=); choose from: sentence, turn, paragraph"
    assert error.coded() == "[E400] unknown coding unit 'word' (unit=); choose from: sentence, turn, paragraph"
    assert error.params == ("unit",)
    assert isinstance(error, ValueError)  # a bad argument is still a ValueError to plain Python code
    transcript = errors.TranscriptError("P01.txt", "is empty", "Add the text")
    assert str(transcript) == "P01.txt: is empty. Add the text"
    assert transcript.coded() == "[E100] P01.txt: is empty. Add the text"
    again = pickle.loads(
        pickle.dumps(errors.RunFolderError("runs/r1: exists", param="out"))
    )  # crosses worker processes
    assert str(again) == "runs/r1: exists" and again.code == "E300"


def test_errors_library_messages_name_parameters_the_cli_names_flags():
    with pytest.raises(errors.OptionError) as info:
        make_engine("local", scheduler="tcp://127.0.0.1:8786")
    message = str(info.value)
    assert message == "scheduler= is for engine='dask'; add engine='dask' or leave scheduler= out"
    assert "--" not in message
    assert (
        as_flags(message, info.value.params)
        == "--scheduler is for --engine dask; add --engine dask or leave --scheduler out"
    )
    assert as_flags("Choose a new out= path, or add force=True to replace it.", ["out", "force"]) == (
        "Choose a new --out path, or add --force to replace it."
    )
    assert as_flags("fewer workers=, or workers=1.", ["workers"]) == "fewer --workers, or --workers 1."
    assert as_flags("with methods='rule,semantic'", ["methods"]) == "with --method rule,semantic"
    assert as_flags("/data/out=x/: give out=", ["out"]) == "/data/out=x/: give --out"  # a path is left alone
