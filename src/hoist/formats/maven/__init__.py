"""The Maven repository view at ``/maven``."""
