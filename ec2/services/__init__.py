"""EC2 ids and the EC2 actions, as adapters over the other apps' services."""
