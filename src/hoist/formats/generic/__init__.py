"""Plain HTTP at /generic/<registry>/<package>/<version>/<file>: curl -T to upload, curl -O to download."""
