"""The hoist command line: user commands talk HTTP through hoist.client; admin commands run the server."""
