"""One module per command, each with `build_parser(prog)` and `run(opts)`.

Commands never import one another: what two of them share lives in `commands._common` (flags,
account selection, safe output) or below the command layer (pipeline, render, rules).
"""
