"""Spark: drift summaries on a cluster. ``lib/spark/job.py`` is the job (and the only pyspark import).

Importing this package loads nothing; ``lib.spark.job`` needs the optional ``spark`` extra.
"""
