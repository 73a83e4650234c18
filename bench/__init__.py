"""`make bench`: load with wrk on loopback, ratios against ceilings measured in the same run."""
