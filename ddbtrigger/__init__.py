"""ddbtrigger: provision and operate DynamoDB Stream -> Lambda triggers."""

__version__ = "0.1.0"
