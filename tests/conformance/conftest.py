"""The conformance suite: one test per AWS-recorded fact the sandbox (and redrive) reproduce.

Each test names the recorded fact it proves (../shared/AWS-NOTES.md, last section, recorded by LocalStack's
AWS-validated snapshot tests against real AWS); ``docs/sandbox.md`` lists every behaviour with its status.
The sandbox fixtures (``sandbox``, ``clock``) are the ones every test uses, from ``tests/conftest.py``.
"""
