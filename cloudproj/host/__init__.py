"""The host boundary: what every app's agent-side code shares, importing no app.

    identity   which host this process acts for (current_host, agent_host)
    locks      per-key locks (bounded) and an exclusive file lock
    hooks      lifecycle hooks the apps register into from AppConfig.ready
    run        the one subprocess runner (argument lists, timeouts, errors with stderr)
    periodic   daemon threads repeating an agent's passes (stopped on worker shutdown)
    iptables   the one iptables writer: apps declare chains and rules, one lock applies them
"""
