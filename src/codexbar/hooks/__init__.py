"""Hooks: run the user's own commands when quota, provider or money events happen.

CodexBar's contract (`hooks` in its config file, six events, the same environment, stdin
JSON, limits, timeouts and process-group kill), plus our own money events in our own
settings file with the same rule model.

    events       event names, HookEvent (environment and stdin JSON), sample_event
    model        HookRule / HooksConfig: parse_hooks, validate_hooks, to_json, config_revision
    runner       run_rule, plan, run_rules, dispatch, RunResult
    transitions  Sample / Lane → TransitionState.evaluate → Dispatch; TransitionStore
    report       the text and JSON lines of `hooks list|enable|disable|test|watch`

Nothing here is imported on the cached or status-bar paths; import the submodules directly.
"""
