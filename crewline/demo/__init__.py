"""Demo data for trying Crewline and large synthetic data sets for its benchmarks."""
