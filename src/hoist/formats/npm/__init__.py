"""The npm registry view at ``/npm``."""
