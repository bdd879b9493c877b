"""What `kdsl import SOURCE` reads: the serialized model, as data.

- a `.keras` file: the `config.json` inside the zip (Keras is not imported;
  the weights are not read);
- a `.json` file written by `model.to_json()`;
- `keras.applications.NAME`: the application built with `weights=None`;
- `package.module:function`: a function returning a model, called with no
  arguments.
The last two import Keras (and the module), and run what they name.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import zipfile
from ..records import record
from pathlib import Path

from .problems import ImportProblem

MAX_CONFIG_BYTES = 256 * 1024 * 1024  # a config larger than this is refused, not read
_FUNCTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
_APPLICATION = re.compile(r"^keras\.applications\.([A-Za-z_][A-Za-z0-9_]*)$")


@record
class Loaded:
    """A serialized model and where it came from (for the file's header)."""

    serialized: dict
    label: str
    stem: str  # a name for the model when none is given


def load_source(source: str) -> Loaded:
    """Read SOURCE (see the module's docstring)."""
    match = _APPLICATION.match(source)
    if match:
        return _application(match.group(1), source)
    path = Path(source)
    if path.is_file():
        if zipfile.is_zipfile(path):
            return Loaded(_keras_file(path), path.name, path.stem)
        return Loaded(_json_file(path), path.name, path.stem)
    if _FUNCTION.match(source):
        return _function(source)
    if path.suffix in (".keras", ".json"):
        raise ImportProblem(f"no such file: {source}")
    raise ImportProblem(f"{source!r} is neither a .keras or .json file, nor `keras.applications.NAME`, "
                        "nor `package.module:function`")


def _keras_file(path: Path) -> dict:
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                info = archive.getinfo("config.json")
            except KeyError:
                raise ImportProblem(f"{path} is a zip file without config.json: not a .keras model") from None
            if info.file_size > MAX_CONFIG_BYTES:
                raise ImportProblem(f"{path}: config.json is {info.file_size:,} bytes, more than kdsl reads")
            data = archive.read(info)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ImportProblem(f"cannot read {path}: {exc}") from None
    return _parse(data, f"{path}:config.json")


def _json_file(path: Path) -> dict:
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ImportProblem(f"{path} is {size:,} bytes, more than kdsl reads")
        data = path.read_bytes()
    except OSError as exc:
        raise ImportProblem(f"cannot read {path}: {exc.strerror}") from None
    return _parse(data, str(path))


def _parse(data: bytes, where: str) -> dict:
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportProblem(f"{where} is not JSON: {exc}") from None
    except RecursionError:
        raise ImportProblem(f"{where} is nested too deeply to be a saved model") from None
    if not isinstance(value, dict):
        raise ImportProblem(f"{where} holds no saved model")
    return value


def serialized_model(model) -> dict:
    """A built Keras model as `to_json()` writes it (data only)."""
    return json.loads(model.to_json())


def _application(name: str, source: str) -> Loaded:
    import keras  # only this path needs Keras

    function = getattr(keras.applications, name, None)
    if function is None or not callable(function) or not name[:1].isupper():
        raise ImportProblem(f"keras.applications has no model `{name}`")
    return Loaded(serialized_model(function(weights=None)), source, name.lower())


def _function(source: str) -> Loaded:
    module_name, function_name = source.split(":")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: the module may sit in the current folder
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportProblem(f"cannot import {module_name}: {exc}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ImportProblem(f"{module_name} has no function `{function_name}`")
    model = function()
    if not hasattr(model, "to_json"):
        raise ImportProblem(f"{source} returned a {type(model).__name__}, not a Keras model")
    return Loaded(serialized_model(model), source, function_name)
