"""Pure computations on canonical frames: runs, timing, series, pricing, Model Monitor checks."""
