"""The metadata service (nova-api-metadata): what a guest reads at http://169.254.169.254/."""
