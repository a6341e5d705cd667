"""The npm registry view at ``/npm/<registry>/``: what npm 11 asks a registry, answered from the
artifact versions a registry holds (packuments, tarballs, dist-tags, publish, deprecate, unpublish,
login, audit)."""
