"""`import dsl.autoload` installs kdsl's import hook: from then on,
`import models.net` finds `models/net.kd` on sys.path, compiles it in memory
and caches the module in `__pycache__` (see dsl.build.importer)."""

from .build.importer import install_import_hook

install_import_hook()
