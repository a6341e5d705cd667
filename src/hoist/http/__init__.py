"""What every wire format shares: who is asking, one error table, streaming request bodies."""
