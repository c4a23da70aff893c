"""Pinpoint setup against AWS: the IAM role, the Lambda resource policy and the recommender configuration.

Every step reads the current state, works out the write requests that converge it to the declared state and
sends them (or, in a dry run, only records them). boto3 is imported lazily, when the first client is made.
"""
