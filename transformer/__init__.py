"""pinrec's recommendation transformer: the Lambda Amazon Pinpoint invokes, and the pure enrichment core."""
