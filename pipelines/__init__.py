"""The Beam stages, pipeline options and the command line."""
