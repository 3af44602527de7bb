"""The EC2 Query API (`/ec2/`): boto3, the aws CLI and euca2ools-era clients drive the cloud
through the same services as the OpenStack APIs (one quota, one policy, one pipeline)."""
