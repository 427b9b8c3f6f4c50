"""Atlas des quartiers: a fact sheet for every priority neighbourhood, found by its commune."""
