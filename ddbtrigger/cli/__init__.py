"""The typer layer: parse options, call a use case, render. No boto3 and no logic here."""
