"""Thin adapters around boto3: the only package that imports boto3 or catches botocore errors."""
