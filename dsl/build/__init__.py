"""kdsl in build steps: a pre-commit hook, a hatchling build hook, a
setuptools `build_py`, and an import hook that compiles `.kd` files on import.

Each integration lives in its own module and imports its build tool only
when that tool loads it; see docs/build-steps.md.
"""
