"""The only boto3 code: sessions, SageMaker/CloudWatch loaders."""
