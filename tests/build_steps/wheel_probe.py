"""Run by tests/test_build_steps.py in the venv the sample wheels were
installed into: import each generated module, build its model, print JSON.

    python wheel_probe.py MODULE:BUILDER...
"""

import importlib
import json
import sys

found = {}
for spec in sys.argv[1:]:
    name, builder = spec.split(":")
    module = importlib.import_module(name)
    found[name] = {"file": module.__file__, "params": getattr(module, builder)().count_params()}
print(json.dumps({"modules": found, "dsl_imported": "dsl" in sys.modules}))
