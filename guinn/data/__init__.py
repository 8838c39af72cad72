"""Data loading and preprocessing: IDX and CSV files, toy 2-D sets, drawn digits."""
