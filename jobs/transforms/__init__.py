"""The job's transforms: normalisation and rules, threshold alerts, window statistics."""
