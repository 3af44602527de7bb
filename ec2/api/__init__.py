"""The EC2 Query endpoint: parameters, signature checks, dispatch and XML answers."""
