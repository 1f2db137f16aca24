"""The archive tests' moto S3 fixtures, for exports to and SQL over S3."""

from tests.archive.conftest import aws_env, bucket, moto_server, s3_client

__all__ = ["aws_env", "bucket", "moto_server", "s3_client"]
