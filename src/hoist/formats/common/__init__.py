"""What every package protocol room shares: body ingest, error shapes, the edge's challenges."""
