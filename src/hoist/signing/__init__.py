"""Signing adapters: keys (PEM and cosign's encrypted format), cosign signatures (simple signing and
Sigstore bundles), DSSE envelopes. Uses ``cryptography``; nothing here knows HTTP or the database."""
