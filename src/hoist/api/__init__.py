"""The JSON management API under /api/v1: handlers translate, services decide."""
