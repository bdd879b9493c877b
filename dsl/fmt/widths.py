"""The line lengths `kdsl fmt` fits (a module of its own so that the
command line can describe the option without loading the printer)."""

DEFAULT_LINE_LENGTH = 100
MIN_LINE_LENGTH, MAX_LINE_LENGTH = 40, 1000
