"""Stage 4: who receives the data: owner, party, country and legal regime of each host."""
