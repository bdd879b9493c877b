"""Run by tests/test_build_steps.py in a fresh process: import a kd module
through the import hook, build its model, and print what happened as JSON.

    python import_probe.py ROOT MODULE BUILDER
    python import_probe.py ROOT MODULE -      (only find it and read its source:
                                                 the same cache lookup, without Keras)
"""

import importlib
import importlib.util
import json
import sys

root, name, builder = sys.argv[1:4]
sys.path.insert(0, root)

import dsl.autoload  # noqa: E402,F401 -- installs the hook
from dsl.build import importer  # noqa: E402

if builder == "-":
    spec = importlib.util.find_spec(name)
    source = spec.loader.get_source(name)
    print(json.dumps({"file": spec.origin, "has_builder": "def build_" in source, "stats": importer.STATS}))
else:
    module = importlib.import_module(name)
    model = getattr(module, builder)()
    print(json.dumps({"file": module.__file__, "params": model.count_params(), "stats": importer.STATS}))
