"""Identity operations in plain Python (accounts, tokens, policy, quotas, catalog...): no HTTP."""
