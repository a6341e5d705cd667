"""The OCI Distribution Spec v1.1 at /v2: docker, podman, skopeo, oras, helm, crane and cosign work
unchanged; repositories are ``<registry>/<package>`` and Hoist's promotion rules apply."""
