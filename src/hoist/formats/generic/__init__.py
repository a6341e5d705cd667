"""Plain HTTP files at ``/generic``."""
